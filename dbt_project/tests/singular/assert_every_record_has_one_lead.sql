-- SPEC section 4: every identity-bearing record belongs to exactly one lead.
with

records as (

    select * from {{ ref('int_identity__records_unioned') }}

),

record_leads as (

    select * from {{ ref('int_identity__record_leads') }}

),

final as (

    select
        records.record_type,
        records.record_id
    from records
    left join record_leads
        on records.record_code = record_leads.record_code
    where record_leads.lead_key is null

)

select * from final
