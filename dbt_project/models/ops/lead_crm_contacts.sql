{#- The HubSpot contact the identity spine knows for a lead, one row per lead that has one: what
    `lead-parity remediate` updates by id instead of upserting by email, so a lead known under
    another or an additional email never gets a second contact (docs/remediation.md). A live
    contact before an archived one, then the oldest: the one a person most likely kept. No email
    here: the ops schema is published. -#}
with

lead_contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

ranked as (

    select
        lead_key,
        contact_id,
        is_archived,
        row_number() over (
            partition by lead_key
            order by is_archived, created_at, contact_id
        ) as contact_rank,
        count(*) over (partition by lead_key) as contacts
    from lead_contacts

),

final as (

    select
        lead_key,
        contact_id,
        is_archived,
        contacts
    from ranked
    where contact_rank = 1

)

select * from final
