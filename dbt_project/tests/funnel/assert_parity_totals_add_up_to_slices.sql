-- SPEC section 6: the (conversion_date, hop) totals are exactly the sums of that day's campaign
-- slices, and a day and hop appears in both marts or in neither.
with

slices as (

    select * from {{ ref('fct_hop_parity_daily') }}

),

totals as (

    select * from {{ ref('fct_hop_parity_daily_totals') }}

),

summed_slices as (

    select
        conversion_date,
        hop,
        sum(expected) as expected,
        sum(reached) as reached,
        sum(dropped) as dropped,
        sum(pending) as pending,
        sum(unknown) as unknown
    from slices
    group by
        conversion_date,
        hop

),

final as (

    select
        coalesce(summed_slices.conversion_date, totals.conversion_date) as conversion_date,
        coalesce(summed_slices.hop, totals.hop) as hop,
        summed_slices.expected as slice_expected,
        totals.expected as total_expected
    from summed_slices
    full outer join totals
        on
            summed_slices.conversion_date = totals.conversion_date
            and summed_slices.hop = totals.hop
    where
        summed_slices.hop is null
        or totals.hop is null
        or summed_slices.expected <> totals.expected
        or summed_slices.reached <> totals.reached
        or summed_slices.dropped <> totals.dropped
        or summed_slices.pending <> totals.pending
        or summed_slices.unknown <> totals.unknown

)

select * from final
