{#- One row per conversion up to as_of (SPEC section 6), with one `<hop>_reached_at` column per
    hop of var('hops'). No raw email here: that lives only in rpt_dropped_leads. A conversion
    `lead-parity remediate` re-sent keeps its verdict (a drop stays a drop) and gains
    remediated_at, when sent up to as_of. -#}
with

conversions as (

    select * from {{ ref('int_conversions_diagnosed') }}

),

remediated as (

    select * from {{ ref('stg_contract__remediated_conversions') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

final as (

    select
        conversions.conversion_id,
        conversions.lead_key,
        conversions.conversion_type,
        conversions.event_name,
        conversions.origin,
        conversions.converted_at,
        conversions.conversion_date,
        {% for hop in var('hops') %}
            conversions.{{ hop }}_reached_at,
        {% endfor %}
        conversions.status,
        conversions.stalled_at_hop,
        conversions.dropped_at_hop,
        conversions.root_cause,
        case when conversions.status = 'dropped' then conversions.stalled_hop_owner end as owner,
        conversions.is_late as late,
        conversions.intent_score,
        conversions.value_usd,
        conversions.assignment_reached_at,
        conversions.assignment_latency_s,
        case
            when remediated.remediated_at <= settings.as_of then remediated.remediated_at
        end as remediated_at
    from conversions
    cross join settings
    left join remediated
        on conversions.conversion_id = remediated.conversion_id

)

select * from final
