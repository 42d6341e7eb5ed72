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

sightings as (

    select
        dropped_lead_records.lead_key,
        messages.email,
        messages.sent_at as seen_at
    from dropped_lead_records
    inner join messages
        on dropped_lead_records.record_id = messages.message_id
    where dropped_lead_records.record_type = 'segment_message'

    union all

    select
        dropped_lead_records.lead_key,
        form_submissions.email,
        form_submissions.submitted_at as seen_at
    from dropped_lead_records
    inner join form_submissions
        on dropped_lead_records.record_id = form_submissions.submission_key
    where dropped_lead_records.record_type = 'form_submission'

    union all

    select
        dropped_lead_records.lead_key,
        contacts.email,
        contacts.created_at as seen_at
    from dropped_lead_records
    inner join contacts
        on dropped_lead_records.record_id = contacts.contact_id
    where dropped_lead_records.record_type = 'contact'

    union all

    select
        dropped_lead_records.lead_key,
        zendesk_users.email,
        zendesk_users.updated_at as seen_at
    from dropped_lead_records
    inner join zendesk_users
        on dropped_lead_records.record_id = cast(zendesk_users.user_id as {{ dbt.type_string() }})
    where dropped_lead_records.record_type = 'zendesk_user'

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
