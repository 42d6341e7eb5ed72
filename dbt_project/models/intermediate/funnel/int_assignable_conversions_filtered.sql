{#- The conversions both latency marts read (SPEC section 6): those of a conversion type whose
    chain has an assignment hop, with their assignment latency. One row per conversion. Kept
    apart from the marts so the slices and the day totals count the same conversions; the
    marts aggregate it themselves because quantiles of slices cannot be combined. -#}
with

conversions as (

    select * from {{ ref('int_conversions_statused') }}

),

conversion_hops as (

    select * from {{ ref('stg_contract__conversion_hops') }}

),

hops as (

    select * from {{ ref('stg_contract__hops') }}

),

assignable_types as (

    select distinct conversion_hops.conversion_type
    from conversion_hops
    inner join hops
        on conversion_hops.hop = hops.hop
    where hops.hop_kind = 'assignment'

),

final as (

    select
        conversions.conversion_id,
        conversions.conversion_type,
        conversions.origin,
        conversions.conversion_date,
        conversions.assignment_latency_s
    from conversions
    inner join assignable_types
        on conversions.conversion_type = assignable_types.conversion_type

)

select * from final
