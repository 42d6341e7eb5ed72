{#- Time from conversion to assignment (the chain's last assignment hop) per day (SPEC section
    6). One row per (conversion_date, conversion_type, origin) for conversion types whose chain
    has an assignment hop: campaign slices only, so sums count each conversion once. median_s
    and p95_s are continuous quantiles over the assigned conversions; the per-day totals live in
    fct_assignment_latency_daily_totals (quantiles of slices cannot be combined). -#}
with

assignable as (

    select * from {{ ref('int_assignable_conversions_filtered') }}

),

slices as (

    select
        conversion_date,
        conversion_type,
        origin,
        count(*) as conversions,
        count(assignment_latency_s) as assigned,
        {{ funnel_percentile_cont('assignment_latency_s', 0.5) }} as median_s,
        {{ funnel_percentile_cont('assignment_latency_s', 0.95) }} as p95_s
    from assignable
    group by
        conversion_date,
        conversion_type,
        origin

),

final as (

    select * from slices

)

select * from final
