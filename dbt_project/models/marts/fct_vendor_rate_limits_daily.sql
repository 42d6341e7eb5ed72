{#- Vendor rate limiting per (date, destination, observed_by), up to as_of. 'receipts': the
    integration layer's delivery attempts and the 429s among them. 'connector': lead-parity's
    own live connectors' requests (HubSpot, Zendesk), each request's retries counted as
    attempts, with the seconds spent waiting on Retry-After and backoff. A 429 storm on one
    vendor shows here before it shows as drops (retries usually get through). -#}
with

receipts as (

    select * from {{ ref('stg_integration__receipts') }}

),

http_calls as (

    select * from {{ ref('stg_connectors__http_calls') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

from_receipts as (

    select
        cast(receipts.attempted_at as date) as attempt_date,
        coalesce(receipts.destination, 'unknown') as destination,
        'receipts' as observed_by,
        count(*) as requests,
        count(*) as attempts,
        count(case when receipts.status_code = 429 then 1 end) as rate_limited,
        cast(null as {{ dbt.type_int() }}) as retries,
        cast(null as {{ type_double() }}) as waited_s
    from receipts
    cross join settings
    where receipts.attempted_at <= settings.as_of
    group by
        cast(receipts.attempted_at as date),
        coalesce(receipts.destination, 'unknown')

),

from_connectors as (

    select
        cast(http_calls.requested_at as date) as attempt_date,
        http_calls.vendor as destination,
        'connector' as observed_by,
        count(*) as requests,
        count(*) + sum(http_calls.retries) as attempts,
        sum(http_calls.rate_limited) as rate_limited,
        sum(http_calls.retries) as retries,
        sum(http_calls.waited_s) as waited_s
    from http_calls
    cross join settings
    where http_calls.requested_at <= settings.as_of
    group by
        cast(http_calls.requested_at as date),
        http_calls.vendor

),

unioned as (

    select * from from_receipts
    union all
    select * from from_connectors

),

final as (

    select
        attempt_date,
        destination,
        observed_by,
        requests,
        attempts,
        rate_limited,
        cast(100 as {{ type_double() }}) * rate_limited / attempts as rate_limited_pct,
        retries,
        waited_s
    from unioned

)

select * from final
