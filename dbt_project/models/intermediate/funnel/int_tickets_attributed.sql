{#- Zendesk tickets created up to as_of, owned by the lead of their requester, with the first
    assignment as known at as_of and the requester's identity_mismatch keys. A deleted ticket
    still proves the lead reached support (SPEC section 2). Tickets `lead-parity remediate`
    created are left out. -#}
with

tickets as (

    select * from {{ ref('stg_zendesk__tickets') }}

),

ticket_metrics as (

    select * from {{ ref('stg_zendesk__ticket_metrics') }}

),

users as (

    select * from {{ ref('stg_zendesk__users') }}

),

record_leads as (

    select * from {{ ref('int_records_resolved') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

user_leads as (

    select
        record_id as user_id_text,
        min(lead_key) as lead_key
    from record_leads
    where record_type = 'zendesk_user'
    group by record_id

),

final as (

    select
        tickets.ticket_id,
        user_leads.lead_key,
        tickets.created_at,
        tickets.external_id,
        case
            when
                tickets.assignee_id is not null
                and ticket_metrics.initially_assigned_at <= settings.as_of
                then ticket_metrics.initially_assigned_at
        end as initially_assigned_at,
        {{ funnel_full_name_key('users.name') }} as name_key,
        {{ funnel_email_domain('users.email') }} as email_domain
    from tickets
    left join ticket_metrics
        on tickets.ticket_id = ticket_metrics.ticket_id
    left join users
        on tickets.requester_id = users.user_id
    left join user_leads
        on cast(tickets.requester_id as {{ dbt.type_string() }}) = user_leads.user_id_text
    cross join settings
    where
        tickets.created_at <= settings.as_of
        -- A ticket `lead-parity remediate` created (external_id lp:<conversion_id>) puts a
        -- dropped lead back; it is not the integration's delivery, so it reaches no hop and
        -- the parity marts stay as they were (docs/remediation.md).
        and (tickets.external_id is null or tickets.external_id not like 'lp:%')

)

select * from final
