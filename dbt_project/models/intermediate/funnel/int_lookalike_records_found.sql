{#- The identity_mismatch evidence of SPEC section 5, for conversions dropped at a record hop:
    one row per such conversion for which a record that would satisfy the hop exists for
    another lead whose first + last name equals one on any record of the conversion's lead and
    whose company or email domain equals one of that lead's, inside the hop's time window.
    Candidates are joined by exact name key, never lead x lead. -#}
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

zendesk_users as (

    select * from {{ ref('stg_zendesk__users') }}

),

form_submissions as (

    select * from {{ ref('int_form_submissions_attributed') }}

),

contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

tickets as (

    select * from {{ ref('int_tickets_attributed') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

dropped as (

    select
        conversion_id,
        lead_key,
        stalled_at_hop as hop,
        stalled_window_start_at as window_start_at,
        stalled_window_end_at as window_end_at,
        stalled_drop_deadline_at as drop_deadline_at
    from conversions
    where
        status = 'dropped'
        and stalled_hop_kind = 'record'

),

dropped_leads as (

    select distinct lead_key from dropped

),

dropped_lead_records as (

    select
        record_leads.record_type,
        record_leads.record_id,
        record_leads.lead_key
    from record_leads
    inner join dropped_leads
        on record_leads.lead_key = dropped_leads.lead_key

),

lead_traits as (

    select
        dropped_lead_records.lead_key,
        {{ funnel_name_key('messages.first_name', 'messages.last_name') }} as name_key,
        {{ funnel_company_key('messages.company') }} as company_key,
        {{ funnel_email_domain('messages.email') }} as email_domain
    from dropped_lead_records
    inner join messages
        on dropped_lead_records.record_id = messages.message_id
    cross join settings
    where
        dropped_lead_records.record_type = 'segment_message'
        and messages.sent_at <= settings.as_of

    union all

    select
        lead_key,
        name_key,
        company_key,
        email_domain
    from form_submissions
    where form_submissions.lead_key in (select dropped_leads.lead_key from dropped_leads)

    union all

    select
        lead_key,
        name_key,
        company_key,
        email_domain
    from contacts
    where contacts.lead_key in (select dropped_leads.lead_key from dropped_leads)

    union all

    select
        dropped_lead_records.lead_key,
        {{ funnel_full_name_key('zendesk_users.name') }} as name_key,
        null as company_key,
        {{ funnel_email_domain('zendesk_users.email') }} as email_domain
    from dropped_lead_records
    inner join zendesk_users
        on
            dropped_lead_records.record_id
            = cast(zendesk_users.user_id as {{ dbt.type_string() }})
    where dropped_lead_records.record_type = 'zendesk_user'

),

lead_names as (

    select distinct
        lead_key,
        name_key
    from lead_traits
    where name_key is not null

),

lead_companies as (

    select distinct
        lead_key,
        company_key
    from lead_traits
    where company_key is not null

),

lead_domains as (

    select distinct
        lead_key,
        email_domain
    from lead_traits
    where email_domain is not null

),

candidate_records as (

    select
        'marketing' as hop,
        lead_key,
        submitted_at as record_at,
        name_key,
        company_key,
        email_domain
    from form_submissions
    where name_key is not null

    union all

    select
        'crm' as hop,
        lead_key,
        created_at as record_at,
        name_key,
        company_key,
        email_domain
    from contacts
    where name_key is not null

    union all

    select
        'support' as hop,
        lead_key,
        created_at as record_at,
        name_key,
        null as company_key,
        email_domain
    from tickets
    where
        name_key is not null
        and lead_key is not null

),

name_hits as (

    select distinct
        dropped.conversion_id,
        dropped.lead_key,
        candidate_records.company_key,
        candidate_records.email_domain
    from dropped
    inner join lead_names
        on dropped.lead_key = lead_names.lead_key
    inner join candidate_records
        on
            dropped.hop = candidate_records.hop
            and lead_names.name_key = candidate_records.name_key
    where
        candidate_records.lead_key <> dropped.lead_key
        and (
            (
                dropped.hop = 'marketing'
                and candidate_records.record_at >= dropped.window_start_at
                and candidate_records.record_at <= dropped.window_end_at
            )
            or (
                dropped.hop = 'crm'
                and candidate_records.record_at <= dropped.drop_deadline_at
            )
            or (
                dropped.hop = 'support'
                and candidate_records.record_at >= dropped.window_start_at
                and candidate_records.record_at <= dropped.drop_deadline_at
            )
        )

),

company_hits as (

    select name_hits.conversion_id
    from name_hits
    inner join lead_companies
        on
            name_hits.lead_key = lead_companies.lead_key
            and name_hits.company_key = lead_companies.company_key

),

domain_hits as (

    select name_hits.conversion_id
    from name_hits
    inner join lead_domains
        on
            name_hits.lead_key = lead_domains.lead_key
            and name_hits.email_domain = lead_domains.email_domain

),

final as (

    select conversion_id from company_hits
    union
    select conversion_id from domain_hits

)

select * from final
