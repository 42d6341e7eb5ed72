{#- The parity SLO's error budget per (budget_date, hop), final days only (docs/incidents.md).
    Budget: parity_discrepancy_pct of the expected conversions of the last 28 final days.
    Burn rate over N days: the dropped share of those days divided by parity_discrepancy_pct
    (1.0 spends the budget exactly over the window). The alert tiers are data (burn_policy,
    after the Google SRE workbook's multi-window, multi-burn-rate alerts, in days because a day
    is the unit that matures): a page needs the long and the short window both burning and, like
    a critical daily breach, min_slice_volume expected on the day. The day x hop totals are
    summed from the slices, which every layout of fct_hop_parity_daily holds. -#}
with

parity as (

    select * from {{ ref('fct_hop_parity_daily') }}

),

hops as (

    select * from {{ ref('stg_contract__hops') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

burn_policy as (

    -- One row per alert tier, worst first: the long window must burn at long_burn_rate and
    -- the last day at short_burn_rate (so an alert ends with the burn, not days later).
    -- 14.4x for a day spends half of a 28-day budget; 6x for three days, two thirds; a ticket
    -- at 2x for three days (a fifth of the budget) while the last day still burns at 1x.
    select
        'page' as alert,
        1 as tier,
        1 as long_days,
        14.4 as long_burn_rate,
        1 as short_days,
        14.4 as short_burn_rate
    union all
    select
        'page' as alert,
        2 as tier,
        3 as long_days,
        6.0 as long_burn_rate,
        1 as short_days,
        6.0 as short_burn_rate
    union all
    select
        'ticket' as alert,
        3 as tier,
        3 as long_days,
        2.0 as long_burn_rate,
        1 as short_days,
        1.0 as short_burn_rate

),

day_hop as (

    select
        conversion_date as budget_date,
        hop,
        cast(sum(expected) as {{ dbt.type_bigint() }}) as expected,
        cast(sum(dropped) as {{ dbt.type_bigint() }}) as dropped
    from parity
    where
        conversion_type != 'all'
        and origin != 'all'
        and coverage = 'covered'
    group by
        conversion_date,
        hop

),

final_days as (

    select
        day_hop.budget_date,
        day_hop.hop,
        day_hop.expected,
        day_hop.dropped,
        {{ dbt.datediff("cast('1970-01-01' as date)", 'day_hop.budget_date', 'day') }}
            as day_number
    from day_hop
    inner join hops
        on day_hop.hop = hops.hop
    cross join settings
    where
        settings.as_of >= {{ dbt.dateadd(
            'second', 'hops.drop_after_s + 86400', 'cast(day_hop.budget_date as timestamp)'
        ) }}

),

windowed as (

    select
        budget_date,
        hop,
        expected,
        dropped,
        cast(sum(expected) over (
            partition by hop order by day_number range between 2 preceding and current row
        ) as {{ dbt.type_bigint() }}) as expected_3d,
        cast(sum(dropped) over (
            partition by hop order by day_number range between 2 preceding and current row
        ) as {{ dbt.type_bigint() }}) as dropped_3d,
        cast(sum(expected) over (
            partition by hop order by day_number range between 27 preceding and current row
        ) as {{ dbt.type_bigint() }}) as expected_28d,
        cast(sum(dropped) over (
            partition by hop order by day_number range between 27 preceding and current row
        ) as {{ dbt.type_bigint() }}) as dropped_28d
    from final_days

),

rated as (

    select
        windowed.*,
        cast(settings.parity_discrepancy_pct as {{ type_double() }}) / 100 as slo_rate,
        settings.min_slice_volume,
        case
            when windowed.expected > 0
                then
                    cast(windowed.dropped as {{ type_double() }}) / windowed.expected
                    / (settings.parity_discrepancy_pct / 100)
        end as burn_rate_1d,
        case
            when windowed.expected_3d > 0
                then
                    cast(windowed.dropped_3d as {{ type_double() }}) / windowed.expected_3d
                    / (settings.parity_discrepancy_pct / 100)
        end as burn_rate_3d,
        case
            when windowed.expected_28d > 0
                then
                    cast(windowed.dropped_28d as {{ type_double() }}) / windowed.expected_28d
                    / (settings.parity_discrepancy_pct / 100)
        end as burn_rate_28d
    from windowed
    cross join settings

),

alerts as (

    select
        rated.budget_date,
        rated.hop,
        min(
            case
                when burn_policy.alert = 'page' and rated.expected < rated.min_slice_volume
                    then 3
                else burn_policy.tier
            end
        ) as tier
    from rated
    inner join burn_policy
        on
            case burn_policy.long_days
                when 1 then rated.burn_rate_1d
                when 3 then rated.burn_rate_3d
            end >= burn_policy.long_burn_rate
            and case burn_policy.short_days
                when 1 then rated.burn_rate_1d
            end >= burn_policy.short_burn_rate
    group by
        rated.budget_date,
        rated.hop

),

final as (

    select
        rated.budget_date,
        rated.hop,
        rated.expected,
        rated.dropped,
        rated.expected_3d,
        rated.dropped_3d,
        rated.expected_28d,
        rated.dropped_28d,
        rated.slo_rate * rated.expected_28d as error_budget,
        rated.slo_rate * rated.expected_28d - rated.dropped_28d as budget_remaining,
        case
            when rated.expected_28d > 0
                then 100 * (1 - rated.dropped_28d / (rated.slo_rate * rated.expected_28d))
        end as budget_remaining_pct,
        rated.burn_rate_1d,
        rated.burn_rate_3d,
        rated.burn_rate_28d,
        case alerts.tier when 1 then 'page' when 2 then 'page' when 3 then 'ticket' end
            as burn_alert,
        rated.expected_28d > 0
        and rated.dropped_28d >= rated.slo_rate * rated.expected_28d as is_budget_exhausted
    from rated
    left join alerts
        on
            rated.budget_date = alerts.budget_date
            and rated.hop = alerts.hop

)

select * from final
