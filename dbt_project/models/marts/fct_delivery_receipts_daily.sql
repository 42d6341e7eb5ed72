{#- Delivery receipts of every integration hop (the playbook's minimum telemetry), per
    (attempt date, hop, destination), receipts up to as_of. Attempts and outcomes count
    receipts; dead-lettered and replayed count distinct conversions; replay success follows the
    conversions first dead-lettered that day (as fct_dead_letters_daily); retries per delivered
    message counts the failed attempts before each (conversion, hop, destination)'s first
    successful delivery, on the day of that delivery. A null status code is a timeout. -#}
with

receipts as (

    select * from {{ ref('stg_integration__receipts') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

known as (

    select
        receipts.conversion_id,
        receipts.hop,
        coalesce(receipts.destination, 'unknown') as destination,
        receipts.attempted_at,
        cast(receipts.attempted_at as date) as attempt_date,
        receipts.status_code,
        lower(receipts.outcome) as outcome
    from receipts
    cross join settings
    where receipts.attempted_at <= settings.as_of

),

attempts as (

    select
        attempt_date,
        hop,
        destination,
        count(*) as attempts,
        count(case when outcome = 'delivered' then 1 end) as delivered,
        count(case when outcome = 'failed' then 1 end) as failed,
        count(
            case
                when outcome in ('failed', 'dead_lettered') and status_code between 400 and 499
                    then 1
            end
        ) as failed_4xx,
        count(
            case when outcome in ('failed', 'dead_lettered') and status_code = 429 then 1 end
        ) as rate_limited,
        count(
            case
                when outcome in ('failed', 'dead_lettered') and status_code between 500 and 599
                    then 1
            end
        ) as failed_5xx,
        count(
            case when outcome in ('failed', 'dead_lettered') and status_code is null then 1 end
        ) as timeouts,
        count(distinct case when outcome = 'dead_lettered' then conversion_id end)
            as dead_lettered,
        count(distinct case when outcome = 'replayed' then conversion_id end) as replayed
    from known
    group by
        attempt_date,
        hop,
        destination

),

first_dead_letters as (

    select
        conversion_id,
        hop,
        destination,
        min(attempted_at) as dead_lettered_at
    from known
    where outcome = 'dead_lettered'
    group by
        conversion_id,
        hop,
        destination

),

replays as (

    select distinct
        conversion_id,
        hop,
        destination
    from known
    where outcome = 'replayed'

),

replay_success as (

    select
        cast(first_dead_letters.dead_lettered_at as date) as attempt_date,
        first_dead_letters.hop,
        first_dead_letters.destination,
        count(*) as dead_lettered_first,
        count(replays.conversion_id) as replayed_later
    from first_dead_letters
    left join replays
        on
            first_dead_letters.conversion_id = replays.conversion_id
            and first_dead_letters.hop = replays.hop
            and first_dead_letters.destination = replays.destination
    group by
        cast(first_dead_letters.dead_lettered_at as date),
        first_dead_letters.hop,
        first_dead_letters.destination

),

first_deliveries as (

    select
        conversion_id,
        hop,
        destination,
        min(attempted_at) as delivered_at
    from known
    where outcome in ('delivered', 'replayed')
    group by
        conversion_id,
        hop,
        destination

),

retries as (

    select
        cast(first_deliveries.delivered_at as date) as attempt_date,
        first_deliveries.hop,
        first_deliveries.destination,
        count(distinct first_deliveries.conversion_id) as delivered_messages,
        count(known.conversion_id) as retries_before_delivery
    from first_deliveries
    left join known
        on
            first_deliveries.conversion_id = known.conversion_id
            and first_deliveries.hop = known.hop
            and first_deliveries.destination = known.destination
            and first_deliveries.delivered_at > known.attempted_at
            and known.outcome in ('failed', 'dead_lettered')
    group by
        cast(first_deliveries.delivered_at as date),
        first_deliveries.hop,
        first_deliveries.destination

),

final as (

    select
        attempts.attempt_date,
        attempts.hop,
        attempts.destination,
        attempts.attempts,
        attempts.delivered,
        attempts.failed,
        attempts.failed_4xx,
        attempts.rate_limited,
        attempts.failed_5xx,
        attempts.timeouts,
        attempts.dead_lettered,
        attempts.replayed,
        coalesce(replay_success.dead_lettered_first, 0) as dead_lettered_first,
        coalesce(replay_success.replayed_later, 0) as replayed_later,
        case
            when replay_success.dead_lettered_first > 0
                then
                    cast(100 as {{ type_double() }}) * replay_success.replayed_later
                    / replay_success.dead_lettered_first
        end as replay_success_pct,
        coalesce(retries.delivered_messages, 0) as delivered_messages,
        case
            when retries.delivered_messages > 0
                then
                    cast(retries.retries_before_delivery as {{ type_double() }})
                    / retries.delivered_messages
        end as retries_per_delivered
    from attempts
    left join replay_success
        on
            attempts.attempt_date = replay_success.attempt_date
            and attempts.hop = replay_success.hop
            and attempts.destination = replay_success.destination
    left join retries
        on
            attempts.attempt_date = retries.attempt_date
            and attempts.hop = retries.hop
            and attempts.destination = retries.destination

)

select * from final
