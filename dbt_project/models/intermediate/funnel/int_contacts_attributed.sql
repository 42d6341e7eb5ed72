{#- HubSpot contacts created up to as_of with their lead, the owner assignment as known at as_of
    (an assignment after as_of has not happened yet), and the identity_mismatch keys. An
    archived contact still proves the lead reached the CRM. The one link from a contact to its
    lead: the crm hops and ops.lead_crm_contacts both read it. -#}
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

final as (

    select
        contacts.contact_id,
        record_leads.lead_key,
        contacts.created_at,
        contacts.is_archived,
        case
            when contacts.owner_id is not null and contacts.owner_assigned_at <= settings.as_of
                then contacts.owner_assigned_at
        end as owner_assigned_at,
        {{ funnel_name_key('contacts.first_name', 'contacts.last_name') }} as name_key,
        {{ funnel_company_key('contacts.company') }} as company_key,
        {{ funnel_email_domain('contacts.email') }} as email_domain
    from contacts
    inner join record_leads
        on
            record_leads.record_type = 'contact'
            and contacts.contact_id = record_leads.record_id
    cross join settings
    where contacts.created_at <= settings.as_of

)

select * from final
