{#- SPEC section 1: a conversion is a track message whose event the routing contract lists,
    sent up to as_of, tied to the lead of its message. -#}
with

messages as (

    select * from {{ ref('stg_segment__messages') }}

),

conversion_events as (

    select * from {{ ref('stg_contract__conversion_events') }}

),

record_leads as (

    select * from {{ ref('int_records_resolved') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

conversion_messages as (

    select
        messages.message_id as conversion_id,
        messages.event_name,
        conversion_events.conversion_type,
        conversion_events.value_usd,
        messages.origin,
        messages.sent_at as converted_at,
        messages.intent_score,
        messages.email
    from messages
    inner join conversion_events
        on messages.event_name = conversion_events.event_name
    cross join settings
    where
        messages.message_type = 'track'
        and messages.sent_at <= settings.as_of

),

final as (

    select
        conversion_messages.conversion_id,
        record_leads.lead_key,
        conversion_messages.event_name,
        conversion_messages.conversion_type,
        conversion_messages.origin,
        conversion_messages.converted_at,
        cast(conversion_messages.converted_at as date) as conversion_date,
        conversion_messages.intent_score,
        conversion_messages.value_usd,
        conversion_messages.email
    from conversion_messages
    -- One row per record (identity's grain), so this join cannot fan out.
    left join record_leads
        on
            record_leads.record_type = 'segment_message'
            and conversion_messages.conversion_id = record_leads.record_id

)

select * from final
