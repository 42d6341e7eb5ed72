{#- Time from conversion to assignment (the chain's last assignment hop) per day (SPEC section
    6). One row per (conversion_date, conversion_type, origin, is_total) for conversion types
    whose chain has an assignment hop, plus a per-day total with conversion_type and origin
    'all'. median_s and p95_s are continuous quantiles over the assigned conversions. -#}
with

conversions as (

    select * from {{ ref('int_conversions_statused') }}

),

conversion_hops as (

    select * from {{ ref('stg_contract__conversion_hops') }}

),

hops as (

    select * from {{ ref('stg_contract__hops') }}

),

assignable_types as (

    select distinct conversion_hops.conversion_type
    from conversion_hops
    inner join hops
        on conversion_hops.hop = hops.hop
    where hops.hop_kind = 'assignment'

),

assignable as (

    select conversions.*
    from conversions
    inner join assignable_types
        on conversions.conversion_type = assignable_types.conversion_type

),

slices as (

    select
        conversion_date,
        conversion_type,
        origin,
        false as is_total,
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

totals as (

    select
        conversion_date,
        'all' as conversion_type,
        'all' as origin,
        true as is_total,
        count(*) as conversions,
        count(assignment_latency_s) as assigned,
        {{ funnel_percentile_cont('assignment_latency_s', 0.5) }} as median_s,
        {{ funnel_percentile_cont('assignment_latency_s', 0.95) }} as p95_s
    from assignable
    group by conversion_date

),

final as (

    select * from slices
    union all
    select * from totals

)

select * from final
