{#- Form submissions up to as_of with their lead and the keys the identity_mismatch rule
    compares (marketing hop, SPEC section 5). -#}
with

form_submissions as (

    select * from {{ ref('stg_hubspot__form_submissions') }}

),

record_leads as (

    select * from {{ ref('int_records_resolved') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

final as (

    select
        form_submissions.submission_key,
        record_leads.lead_key,
        form_submissions.submitted_at,
        {{ funnel_name_key('form_submissions.first_name', 'form_submissions.last_name') }}
            as name_key,
        {{ funnel_company_key('form_submissions.company') }} as company_key,
        {{ funnel_email_domain('form_submissions.email') }} as email_domain
    from form_submissions
    inner join record_leads
        on
            record_leads.record_type = 'form_submission'
            and form_submissions.submission_key = record_leads.record_id
    cross join settings
    where form_submissions.submitted_at <= settings.as_of

)

select * from final
