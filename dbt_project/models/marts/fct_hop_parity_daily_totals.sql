{#- Hop parity per day (SPEC section 6): one row per (conversion_date, hop), every conversion
    type and origin summed, with the same columns as fct_hop_parity_daily (conversion_type and
    origin 'all'). The parity SLO is judged on every total that expects something. -#}
with

slices as (

    select * from {{ ref('int_parity_slices_counted') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

totals as (

    select
        conversion_date,
        hop,
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

measured as (

    select
        totals.*,
        case
            when totals.expected > 0
                then cast(100 as {{ type_double() }}) * totals.dropped / totals.expected
        end as discrepancy_pct
    from totals

),

final as (

    select
        measured.conversion_date,
        'all' as conversion_type,
        'all' as origin,
        measured.hop,
        measured.hop_order,
        case when measured.is_covered then 'covered' else 'unknown' end as coverage,
        measured.expected,
        measured.reached,
        measured.dropped,
        measured.pending,
        measured.unknown,
        measured.discrepancy_pct,
        measured.discrepancy_pct >= settings.parity_discrepancy_pct as slo_breached,
        measured.discrepancy_pct >= settings.critical_discrepancy_pct as slo_critical
    from measured
    cross join settings

)

select * from final
