{#- The playbook's ROI: revenue at risk (contract value_usd of dropped conversions) per ISO week
    of conversion, against a baseline the user picks in the contract (telemetry.
    roi_baseline_week, a Monday) or, by default, the mean of the first four weeks with data.
    change_vs_baseline_pct < 0 is revenue the pipeline helped keep. -#}
with

conversions as (

    select * from {{ ref('fct_conversions') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

weekly as (

    select
        cast({{ dbt.date_trunc('week', 'conversion_date') }} as date) as week_start,
        count(*) as conversions,
        count(case when status = 'dropped' then 1 end) as dropped,
        count(case when status = 'pending' then 1 end) as pending,
        coalesce(sum(case when status = 'dropped' then value_usd end), 0)
            as revenue_at_risk_usd
    from conversions
    group by cast({{ dbt.date_trunc('week', 'conversion_date') }} as date)

),

ranked as (

    select
        weekly.*,
        row_number() over (order by weekly.week_start) as week_number
    from weekly

),

flagged as (

    select
        ranked.*,
        case
            when settings.roi_baseline_week is not null
                then ranked.week_start = settings.roi_baseline_week
            else ranked.week_number <= 4
        end as is_baseline
    from ranked
    cross join settings

),

baseline as (

    select
        avg(cast(revenue_at_risk_usd as {{ type_double() }})) as baseline_revenue_at_risk_usd,
        avg(cast(dropped as {{ type_double() }})) as baseline_dropped
    from flagged
    where is_baseline

),

final as (

    select
        flagged.week_start,
        flagged.conversions,
        flagged.dropped,
        flagged.pending,
        flagged.revenue_at_risk_usd,
        flagged.is_baseline,
        baseline.baseline_dropped,
        baseline.baseline_revenue_at_risk_usd,
        flagged.revenue_at_risk_usd - baseline.baseline_revenue_at_risk_usd
            as change_vs_baseline_usd,
        case
            when baseline.baseline_revenue_at_risk_usd > 0
                then
                    100 * (flagged.revenue_at_risk_usd - baseline.baseline_revenue_at_risk_usd)
                    / baseline.baseline_revenue_at_risk_usd
        end as change_vs_baseline_pct
    from flagged
    cross join baseline

)

select * from final
