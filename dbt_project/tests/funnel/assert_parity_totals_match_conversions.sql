-- The first hop of every chain sees every conversion: per day, the totals of the first hops
-- account for each conversion exactly once.
with

conversions as (

    select * from {{ ref('fct_conversions') }}

),

parity as (

    select * from {{ ref('fct_hop_parity_daily') }}

),

first_hop_counts as (

    select
        conversion_date,
        sum(expected + pending + unknown) as arrived
    from parity
    where hop_order = 1
    group by conversion_date

),

conversion_counts as (

    select
        conversion_date,
        count(*) as conversions
    from conversions
    group by conversion_date

),

final as (

    select
        conversion_counts.conversion_date,
        conversion_counts.conversions,
        first_hop_counts.arrived
    from conversion_counts
    left join first_hop_counts
        on conversion_counts.conversion_date = first_hop_counts.conversion_date
    where coalesce(first_hop_counts.arrived, -1) <> conversion_counts.conversions

)

select * from final
