{#- Time from conversion to assignment per day, every conversion type and origin together
    (SPEC section 6): one row per conversion_date with conversions of a type whose chain has an
    assignment hop. Quantiles of slices cannot be combined, so this is computed from the
    conversions themselves, not from fct_assignment_latency_daily. -#}
with

assignable as (

    select * from {{ ref('int_assignable_conversions_filtered') }}

),

totals as (

    select
        conversion_date,
        count(*) as conversions,
        count(assignment_latency_s) as assigned,
        {{ funnel_percentile_cont('assignment_latency_s', 0.5) }} as median_s,
        {{ funnel_percentile_cont('assignment_latency_s', 0.95) }} as p95_s
    from assignable
    group by conversion_date

),

final as (

    select * from totals

)

select * from final
