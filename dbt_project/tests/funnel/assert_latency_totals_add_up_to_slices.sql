-- SPEC section 6: a day's latency total counts exactly the conversions and assignments of that
-- day's campaign slices, and a day appears in both marts or in neither. (Its quantiles are
-- computed from the conversions: quantiles of slices cannot be summed.)
with

slices as (

    select * from {{ ref('fct_assignment_latency_daily') }}

),

totals as (

    select * from {{ ref('fct_assignment_latency_daily_totals') }}

),

summed_slices as (

    select
        conversion_date,
        sum(conversions) as conversions,
        sum(assigned) as assigned
    from slices
    group by conversion_date

),

final as (

    select
        coalesce(summed_slices.conversion_date, totals.conversion_date) as conversion_date,
        summed_slices.assigned as slice_assigned,
        totals.assigned as total_assigned
    from summed_slices
    full outer join totals
        on summed_slices.conversion_date = totals.conversion_date
    where
        summed_slices.conversion_date is null
        or totals.conversion_date is null
        or summed_slices.conversions <> totals.conversions
        or summed_slices.assigned <> totals.assigned

)

select * from final
