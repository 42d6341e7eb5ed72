with

record_leads as (

    select * from {{ ref('int_identity__record_leads') }}

),

records as (

    select * from {{ ref('int_identity__records_unioned') }}

),

collected as (

    select * from {{ ref('int_identity__identifiers_collected') }}

),

messages as (

    select * from {{ ref('stg_segment__messages') }}

),

conversion_events as (

    select * from {{ ref('stg_contract__conversion_events') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

lead_records as (

    select
        record_leads.lead_key,
        record_leads.record_type,
        record_leads.record_id,
        records.record_code,
        records.record_at
    from record_leads
    inner join records
        on
            record_leads.record_type = records.record_type
            and record_leads.record_id = records.record_id

),

lead_systems as (

    select
        lead_key,
        min(record_at) as first_seen_at,
        max(case when record_type = 'segment_message' then 1 else 0 end) = 1 as has_segment,
        max(case when record_type = 'form_submission' then 1 else 0 end) = 1 as has_hubspot_forms,
        max(case when record_type = 'contact' then 1 else 0 end) = 1 as has_hubspot_contacts,
        max(case when record_type = 'zendesk_user' then 1 else 0 end) = 1 as has_zendesk
    from lead_records
    group by lead_key

),

-- Guarded identifiers stay attached to their records, so they count for every lead carrying them.
lead_identifiers as (

    select
        lead_records.lead_key,
        count(distinct case when collected.identifier_type = 'email' then collected.identifier_value end) as emails,
        count(distinct case when collected.identifier_type = 'anonymous_id' then collected.identifier_value end) as anonymous_ids,
        count(distinct case when collected.identifier_type = 'user_id' then collected.identifier_value end) as user_ids,
        count(distinct case when collected.identifier_type = 'lead_id' then collected.identifier_value end) as lead_ids,
        count(distinct case when collected.identifier_type = 'hubspot_contact' then collected.identifier_value end) as hubspot_contacts,
        count(distinct case when collected.identifier_type = 'zendesk_user' then collected.identifier_value end) as zendesk_users
    from lead_records
    inner join collected
        on lead_records.record_code = collected.record_code
    group by lead_records.lead_key

),

-- Counted like fct_conversions: conversion track messages up to as_of.
lead_conversions as (

    select
        record_leads.lead_key,
        count(*) as conversions
    from messages
    inner join conversion_events
        on messages.event_name = conversion_events.event_name
    cross join settings
    inner join record_leads
        on
            record_leads.record_type = 'segment_message'
            and messages.message_id = record_leads.record_id
    where
        messages.message_type = 'track'
        and messages.sent_at <= settings.as_of
    group by record_leads.lead_key

),

final as (

    select
        lead_systems.lead_key,
        lead_systems.first_seen_at,
        coalesce(lead_identifiers.emails, 0) as emails,
        coalesce(lead_identifiers.anonymous_ids, 0) as anonymous_ids,
        coalesce(lead_identifiers.user_ids, 0) as user_ids,
        coalesce(lead_identifiers.lead_ids, 0) as lead_ids,
        coalesce(lead_identifiers.hubspot_contacts, 0) as hubspot_contacts,
        coalesce(lead_identifiers.zendesk_users, 0) as zendesk_users,
        lead_systems.has_segment,
        lead_systems.has_hubspot_forms,
        lead_systems.has_hubspot_contacts,
        lead_systems.has_zendesk,
        coalesce(lead_conversions.conversions, 0) as conversions
    from lead_systems
    left join lead_identifiers
        on lead_systems.lead_key = lead_identifiers.lead_key
    left join lead_conversions
        on lead_systems.lead_key = lead_conversions.lead_key

)

select * from final
