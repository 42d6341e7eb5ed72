{#- Each conversion fans out to the hops of its chain, with the hop's contract terms and whether
    the system that serves the hop is in the stack at all (SPEC section 2: a missing source
    folder makes its hops `unknown`, never dropped). -#}
with

conversions as (

    select * from {{ ref('int_conversions_identified') }}

),

conversion_hops as (

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

chain_terms as (

    -- Per conversion type: the hop whose reach is the assignment (the chain's last assignment hop).
    select
        conversion_hops.conversion_type,
        max(
            case when hops.hop_kind = 'assignment' then conversion_hops.hop_order end
        ) as assignment_hop_order
    from conversion_hops
    inner join hops
        on conversion_hops.hop = hops.hop
    group by conversion_hops.conversion_type

),

final as (

    select
        conversions.conversion_id,
        conversions.lead_key,
        conversions.conversion_type,
        conversions.converted_at,
        conversion_hops.hop,
        conversion_hops.hop_order,
        hops.hop_kind,
        hops.drop_after_s,
        hops.sla_s,
        hops.owner,
        hops.source_system,
        coalesce(source_manifests.is_present, false) as is_covered,
        coalesce(conversion_hops.hop_order = chain_terms.assignment_hop_order, false)
            as is_assignment_hop,
        {{ dbt.dateadd('second', 'hops.drop_after_s', 'conversions.converted_at') }}
            as drop_deadline_at,
        {{ dbt.dateadd('second', 'hops.sla_s', 'conversions.converted_at') }} as sla_deadline_at,
        {{ dbt.dateadd('second', '-1 * settings.match_window_s', 'conversions.converted_at') }}
            as window_start_at,
        {{ dbt.dateadd('second', 'settings.match_window_s', 'conversions.converted_at') }}
            as window_end_at
    from conversions
    inner join conversion_hops
        on conversions.conversion_type = conversion_hops.conversion_type
    inner join hops
        on conversion_hops.hop = hops.hop
    inner join chain_terms
        on conversions.conversion_type = chain_terms.conversion_type
    left join source_manifests
        on hops.source_system = source_manifests.source
    cross join settings

)

select * from final
