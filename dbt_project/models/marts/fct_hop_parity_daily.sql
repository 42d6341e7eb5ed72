{#- Hop parity per day (SPEC section 6). One row per (conversion_date, conversion_type, origin,
    hop, is_total): slices, plus one total per (conversion_date, hop) with conversion_type and
    origin 'all' and is_total true. A conversion arrives at a hop when every earlier hop of its
    chain was reached; expected = arrived and not pending there. The SLO is judged on every
    total and on slices with expected >= min_slice_volume; slo_breached is null where not
    judged. A hop whose system is missing from the stack (coverage 'unknown') expects nothing. -#}
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

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

hop_terms as (

    select
        chain_hops.conversion_type as conversion_type,
        chain_hops.hop as hop,
        chain_hops.hop_order as hop_order,
        coalesce(source_manifests.is_present, false) as is_covered
    from chain_hops
    inner join hops
        on chain_hops.hop = hops.hop
    left join source_manifests
        on hops.source_system = source_manifests.source

),

hop_outcomes as (

    select
        conversions.conversion_date as conversion_date,
        conversions.conversion_type as conversion_type,
        conversions.origin as origin,
        hop_terms.hop as hop,
        hop_terms.hop_order as hop_order,
        hop_terms.is_covered as is_covered,
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

slices as (

    select
        conversion_date,
        conversion_type,
        origin,
        hop,
        false as is_total,
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

),

totals as (

    select
        conversion_date,
        'all' as conversion_type,
        'all' as origin,
        hop,
        true as is_total,
        min(hop_order) as hop_order,
        max(case when is_covered then 1 else 0 end) = 1 as is_covered,
        cast(sum(expected) as {{ dbt.type_bigint() }}) as expected,
        cast(sum(reached) as {{ dbt.type_bigint() }}) as reached,
        cast(sum(dropped) as {{ dbt.type_bigint() }}) as dropped,
        cast(sum(pending) as {{ dbt.type_bigint() }}) as pending,
        cast(sum(unknown) as {{ dbt.type_bigint() }}) as unknown
    from slices
    group by
        conversion_date,
        hop

),

unioned as (

    select * from slices
    union all
    select * from totals

),

measured as (

    select
        unioned.*,
        case
            when unioned.expected > 0
                then cast(100 as {{ type_double() }}) * unioned.dropped / unioned.expected
        end as discrepancy_pct,
        unioned.expected > 0
        and (unioned.is_total or unioned.expected >= settings.min_slice_volume) as is_judged
    from unioned
    cross join settings

),

final as (

    select
        measured.conversion_date as conversion_date,
        measured.conversion_type as conversion_type,
        measured.origin as origin,
        measured.hop as hop,
        measured.is_total as is_total,
        measured.hop_order as hop_order,
        case when measured.is_covered then 'covered' else 'unknown' end as coverage,
        measured.expected as expected,
        measured.reached as reached,
        measured.dropped as dropped,
        measured.pending as pending,
        measured.unknown as unknown,
        measured.discrepancy_pct as discrepancy_pct,
        case
            when measured.is_judged
                then measured.discrepancy_pct >= settings.parity_discrepancy_pct
        end as slo_breached,
        case
            when measured.is_judged
                then measured.discrepancy_pct >= settings.critical_discrepancy_pct
        end as slo_critical
    from measured
    cross join settings

)

select * from final
