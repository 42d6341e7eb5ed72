{#- Enrichment health per conversion_date: conversions the integration layer tried to enrich
    (enrichment receipts up to as_of), how many succeeded (some receipt delivered or replayed,
    SPEC section 5 rule 4), and the latency from converted_at to the first successful enrichment
    receipt (continuous median and P95 over the enriched conversions). -#}
with

conversions as (

    select * from {{ ref('int_conversions_identified') }}

),

receipts as (

    select * from {{ ref('stg_integration__receipts') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

enrichment as (

    select
        receipts.conversion_id,
        min(
            case
                when lower(receipts.outcome) in ('delivered', 'replayed')
                    then receipts.attempted_at
            end
        ) as enriched_at
    from receipts
    cross join settings
    where
        receipts.hop = 'enrichment'
        and receipts.attempted_at <= settings.as_of
    group by receipts.conversion_id

),

timed as (

    select
        conversions.conversion_date,
        enrichment.enriched_at,
        -- Null when never enriched: datediff of a null is null on every engine.
        {{ dbt.datediff('conversions.converted_at', 'enrichment.enriched_at', 'second') }}
            as enrichment_latency_s
    from enrichment
    inner join conversions
        on enrichment.conversion_id = conversions.conversion_id

),

final as (

    select
        conversion_date,
        count(*) as attempted,
        count(enriched_at) as enriched,
        count(*) - count(enriched_at) as failed,
        cast(100 as {{ type_double() }}) * count(enriched_at) / count(*) as success_pct,
        {{ funnel_percentile_cont('enrichment_latency_s', 0.5) }} as median_s,
        {{ funnel_percentile_cont('enrichment_latency_s', 0.95) }} as p95_s
    from timed
    group by conversion_date

)

select * from final
