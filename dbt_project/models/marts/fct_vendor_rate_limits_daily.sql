{#- Vendor rate limiting per (date, destination), as the integration layer's receipts saw it:
    every attempt up to as_of, how many a vendor answered 429, and that share. A 429 storm on
    one vendor shows here before it shows as drops (retries usually get through). -#}
with

receipts as (

    select * from {{ ref('stg_integration__receipts') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

known as (

    select
        cast(receipts.attempted_at as date) as attempt_date,
        coalesce(receipts.destination, 'unknown') as destination,
        receipts.hop,
        receipts.status_code
    from receipts
    cross join settings
    where receipts.attempted_at <= settings.as_of

),

final as (

    select
        attempt_date,
        destination,
        'receipts' as observed_by,
        count(*) as attempts,
        count(case when status_code = 429 then 1 end) as rate_limited,
        cast(100 as {{ type_double() }}) * count(case when status_code = 429 then 1 end)
        / count(*) as rate_limited_pct
    from known
    group by
        attempt_date,
        destination

)

select * from final
