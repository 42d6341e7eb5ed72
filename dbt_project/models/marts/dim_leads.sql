{#- One count column per identifier type of int_identifiers_collected (SPEC section 4), in this
    order: written once so a new type is one pair here, not two edits that can disagree. -#}
{%- set identifier_columns = [
    ('email', 'emails'),
    ('anonymous_id', 'anonymous_ids'),
    ('user_id', 'user_ids'),
    ('lead_id', 'lead_ids'),
    ('hubspot_contact', 'hubspot_contacts'),
    ('zendesk_user', 'zendesk_users'),
] %}

with

record_leads as (

    select * from {{ ref('int_records_resolved') }}

),

collected as (

    select * from {{ ref('int_identifiers_collected') }}

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

-- Leads are grouped by integers, not their md5 lead_key: a component by its node, a record that is
-- a lead of its own by its record_code (both unique, so the pair names one lead).
lead_records as (

    select
        record_leads.lead_key,
        record_leads.component_node_id is null as is_own_lead,
        coalesce(record_leads.component_node_id, record_leads.record_code) as lead_code,
        record_leads.record_type,
        record_leads.record_code,
        record_leads.record_at
    from record_leads

),

lead_systems as (

    select
        lead_key,
        is_own_lead,
        lead_code,
        min(record_at) as first_seen_at,
        max(case when record_type = 'segment_message' then 1 else 0 end) = 1 as has_segment,
        max(case when record_type = 'form_submission' then 1 else 0 end) = 1 as has_hubspot_forms,
        max(case when record_type = 'contact' then 1 else 0 end) = 1 as has_hubspot_contacts,
        max(case when record_type = 'zendesk_user' then 1 else 0 end) = 1 as has_zendesk
    from lead_records
    group by
        lead_key,
        is_own_lead,
        lead_code

),

-- Guarded identifiers stay attached to their records, so they count for every lead carrying them.
-- One distinct pass over (lead, identifier), then plain counts: six count(distinct) aggregates
-- over the same join cost several times more at millions of identifiers.
lead_identifier_values as (

    select distinct
        lead_records.is_own_lead,
        lead_records.lead_code,
        collected.identifier_type,
        collected.identifier_code
    from lead_records
    inner join collected
        on lead_records.record_code = collected.record_code

),

lead_identifiers as (

    select
        {% for identifier_type, column in identifier_columns %}
            cast(
                sum(case when identifier_type = '{{ identifier_type }}' then 1 else 0 end)
                as {{ dbt.type_bigint() }}
            ) as {{ column }},
        {% endfor %}
        is_own_lead,
        lead_code
    from lead_identifier_values
    group by
        is_own_lead,
        lead_code

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
        {% for _, column in identifier_columns %}
            coalesce(lead_identifiers.{{ column }}, 0) as {{ column }},
        {% endfor %}
        lead_systems.has_segment,
        lead_systems.has_hubspot_forms,
        lead_systems.has_hubspot_contacts,
        lead_systems.has_zendesk,
        coalesce(lead_conversions.conversions, 0) as conversions
    from lead_systems
    left join lead_identifiers
        on
            lead_systems.is_own_lead = lead_identifiers.is_own_lead
            and lead_systems.lead_code = lead_identifiers.lead_code
    left join lead_conversions
        on lead_systems.lead_key = lead_conversions.lead_key

)

select * from final
