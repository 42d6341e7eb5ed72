{#- What the integration layer says about each (conversion_id, hop) up to as_of: whether it tried
    at all and whether any attempt got through (`delivered` or `replayed`). Feeds the
    integration_failure, silent_drop and enrichment_failure root causes (SPEC section 5). -#}
with

receipts as (

    select * from {{ ref('stg_integration__receipts') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

final as (

    select
        receipts.conversion_id,
        receipts.hop,
        count(*) as receipts,
        count(
            case when lower(receipts.outcome) in ('delivered', 'replayed') then 1 end
        ) as successful_receipts,
        min(receipts.attempted_at) as first_attempted_at
    from receipts
    cross join settings
    where receipts.attempted_at <= settings.as_of
    group by
        receipts.conversion_id,
        receipts.hop

)

select * from final
