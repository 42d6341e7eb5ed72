{#- The emails of every lead with a dropped conversion that carried no email, ranked by when
    each was first seen (then alphabetically), so rpt_dropped_leads can name the lead's
    first-seen email when the conversion carried none. One row per (lead_key, email). -#}
with

conversions as (

    select * from {{ ref('int_conversions_statused') }}

),

record_leads as (

    select * from {{ ref('int_records_resolved') }}

),

messages as (

    select * from {{ ref('stg_segment__messages') }}

),

form_submissions as (

    select * from {{ ref('stg_hubspot__form_submissions') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

zendesk_users as (

    select * from {{ ref('stg_zendesk__users') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

dropped_lead_records as (

    select
        record_leads.record_type,
        record_leads.record_id,
        record_leads.lead_key
    from record_leads
    where record_leads.lead_key in (
        select conversions.lead_key from conversions
        where conversions.status = 'dropped' and conversions.email is null
    )

),

-- Each record type's email and the time it was seen, in the record ids of int_records_resolved;
-- joined to the dropped leads' records once below.
record_emails as (

    select
        'segment_message' as record_type,
        message_id as record_id,
        email,
        sent_at as seen_at
    from messages

    union all

    select
        'form_submission' as record_type,
        submission_key as record_id,
        email,
        submitted_at as seen_at
    from form_submissions

    union all

    select
        'contact' as record_type,
        contact_id as record_id,
        email,
        created_at as seen_at
    from contacts

    union all

    select
        'zendesk_user' as record_type,
        cast(user_id as {{ dbt.type_string() }}) as record_id,
        email,
        updated_at as seen_at
    from zendesk_users

),

sightings as (

    select
        dropped_lead_records.lead_key,
        record_emails.email,
        record_emails.seen_at
    from dropped_lead_records
    inner join record_emails
        on
            dropped_lead_records.record_type = record_emails.record_type
            and dropped_lead_records.record_id = record_emails.record_id

),

first_sightings as (

    select
        sightings.lead_key,
        sightings.email,
        min(sightings.seen_at) as first_seen_at
    from sightings
    cross join settings
    where
        sightings.email is not null
        and (sightings.seen_at is null or sightings.seen_at <= settings.as_of)
    group by
        sightings.lead_key,
        sightings.email

),

final as (

    select
        lead_key,
        email,
        first_seen_at,
        row_number() over (
            partition by lead_key
            order by first_seen_at nulls last, email
        ) as email_rank
    from first_sightings

)

select * from final
