{#- The counts behind both parity marts (SPEC section 6): one row per (conversion_date,
    conversion_type, origin, hop). A conversion arrives at a hop when every earlier hop of its
    chain was reached; expected = arrived and not pending there. A hop whose system is missing
    from the stack (coverage 'unknown') expects nothing. Kept apart from the marts so the slices
    and the day totals are summed from the same rows. -#}
with

conversions as (

    select * from {{ ref('int_conversions_statused') }}

),

chain_hops as (

    select * from {{ ref('stg_contract__conversion_hops') }}

),

hops as (

    select * from {{ ref('stg_contract__hops') }}

),

source_manifests as (

    select * from {{ ref('stg_ingestion__source_manifests') }}

),

hop_terms as (

    select
        chain_hops.conversion_type,
        chain_hops.hop,
        chain_hops.hop_order,
        coalesce(source_manifests.is_present, false) as is_covered
    from chain_hops
    inner join hops
        on chain_hops.hop = hops.hop
    left join source_manifests
        on hops.source_system = source_manifests.source

),

hop_outcomes as (

    select
        conversions.conversion_date,
        conversions.conversion_type,
        conversions.origin,
        hop_terms.hop,
        hop_terms.hop_order,
        hop_terms.is_covered,
        case
            when conversions.stalled_hop_order is null then 'reached'
            when hop_terms.hop_order < conversions.stalled_hop_order then 'reached'
            when hop_terms.hop_order = conversions.stalled_hop_order
                then conversions.status
            else 'not_arrived'
        end as outcome
    from conversions
    inner join hop_terms
        on conversions.conversion_type = hop_terms.conversion_type

),

final as (

    select
        conversion_date,
        conversion_type,
        origin,
        hop,
        min(hop_order) as hop_order,
        max(case when is_covered then 1 else 0 end) = 1 as is_covered,
        count(case when outcome in ('reached', 'dropped') then 1 end) as expected,
        count(case when outcome = 'reached' then 1 end) as reached,
        count(case when outcome = 'dropped' then 1 end) as dropped,
        count(case when outcome = 'pending' then 1 end) as pending,
        count(case when outcome = 'unknown' then 1 end) as unknown
    from hop_outcomes
    group by
        conversion_date,
        conversion_type,
        origin,
        hop

)

select * from final
