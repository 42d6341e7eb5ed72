{#- Dead-letter queue health (SPEC section 6). One row per (date, hop) of the first
    dead-lettering of a (conversion, hop), receipts up to as_of: dead_lettered distinct
    conversions, how many of them were replayed (any later `replayed` receipt for that
    conversion and hop), replay_success_pct = 100 * replayed / dead_lettered. -#}
with

receipts as (

    select * from {{ ref('stg_integration__receipts') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

known_receipts as (

    select receipts.*
    from receipts
    cross join settings
    where receipts.attempted_at <= settings.as_of

),

dead_letters as (

    select
        conversion_id,
        hop,
        min(attempted_at) as dead_lettered_at
    from known_receipts
    where lower(outcome) = 'dead_lettered'
    group by
        conversion_id,
        hop

),

replays as (

    select distinct
        conversion_id,
        hop
    from known_receipts
    where lower(outcome) = 'replayed'

),

final as (

    select
        cast(dead_letters.dead_lettered_at as date) as date,
        dead_letters.hop,
        count(*) as dead_lettered,
        count(replays.conversion_id) as replayed,
        cast(100 as {{ type_double() }}) * count(replays.conversion_id) / count(*)
            as replay_success_pct
    from dead_letters
    left join replays
        on
            dead_letters.conversion_id = replays.conversion_id
            and dead_letters.hop = replays.hop
    group by
        cast(dead_letters.dead_lettered_at as date),
        dead_letters.hop

)

select * from final
