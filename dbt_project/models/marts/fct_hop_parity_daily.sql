{#- Hop parity per campaign slice and day (SPEC section 6): one row per (conversion_date,
    conversion_type, origin, hop), slices only, so a sum() over it counts each conversion once;
    the day totals are fct_hop_parity_daily_totals. A slice is judged against the parity SLO only
    with expected >= min_slice_volume: one drop among ten conversions is noise, and the slice
    still counts inside its day's total. slo_breached is null where not judged. -#}
with

slices as (

    select * from {{ ref('int_parity_slices_counted') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

measured as (

    select
        slices.*,
        case
            when slices.expected > 0
                then cast(100 as {{ type_double() }}) * slices.dropped / slices.expected
        end as discrepancy_pct,
        slices.expected > 0 and slices.expected >= settings.min_slice_volume as is_judged
    from slices
    cross join settings

),

final as (

    select
        measured.conversion_date,
        measured.conversion_type,
        measured.origin,
        measured.hop,
        measured.hop_order,
        case when measured.is_covered then 'covered' else 'unknown' end as coverage,
        measured.expected,
        measured.reached,
        measured.dropped,
        measured.pending,
        measured.unknown,
        measured.discrepancy_pct,
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
