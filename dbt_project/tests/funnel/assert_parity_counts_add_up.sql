-- Every conversion that arrives at a hop is reached, dropped, pending or unknown there, and
-- expected is exactly reached + dropped, on the slices and on the day totals alike.
with

slices as (

    select * from {{ ref('fct_hop_parity_daily') }}

),

totals as (

    select * from {{ ref('fct_hop_parity_daily_totals') }}

),

units as (

    select
        conversion_date,
        conversion_type,
        origin,
        hop,
        coverage,
        expected,
        reached,
        dropped
    from slices
    union all
    select
        conversion_date,
        conversion_type,
        origin,
        hop,
        coverage,
        expected,
        reached,
        dropped
    from totals

),

final as (

    select *
    from units
    where
        expected <> reached + dropped
        or (coverage = 'unknown' and (expected <> 0 or dropped <> 0))

)

select * from final
