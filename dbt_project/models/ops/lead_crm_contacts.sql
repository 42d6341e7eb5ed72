{#- The HubSpot contact the identity spine knows for a lead, one row per lead that has one: what
    `lead-parity remediate` updates by id instead of upserting by email, so a lead known under
    another or an additional email never gets a second contact (docs/remediation.md). A live
    contact before an archived one, then the oldest: the one a person most likely kept. No email
    here: the ops schema is published. -#}
with

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

record_leads as (

    select * from {{ ref('int_records_resolved') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

lead_contacts as (

    select
        record_leads.lead_key,
        contacts.contact_id,
        contacts.is_archived,
        contacts.created_at,
        row_number() over (
            partition by record_leads.lead_key
            order by contacts.is_archived, contacts.created_at, contacts.contact_id
        ) as contact_rank,
        count(*) over (partition by record_leads.lead_key) as contacts
    from contacts
    inner join record_leads
        on
            record_leads.record_type = 'contact'
            and contacts.contact_id = record_leads.record_id
    cross join settings
    where contacts.created_at <= settings.as_of

),

final as (

    select
        lead_key,
        contact_id,
        is_archived,
        contacts
    from lead_contacts
    where contact_rank = 1

)

select * from final
