{#- The work list of SPEC section 6: one row per dropped conversion, with who owns the hop it
    dropped at and how to reach the lead (the conversion's own email, else the lead's
    first-seen email). The only mart with raw email. -#}
with

conversions as (

    select * from {{ ref('int_conversions_diagnosed') }}

),

lead_emails as (

    select * from {{ ref('int_lead_emails_ranked') }}

),

dropped as (

    select * from conversions
    where status = 'dropped'

),

final as (

    select
        dropped.conversion_id,
        dropped.lead_key,
        coalesce(dropped.email, lead_emails.email) as email,
        dropped.conversion_type,
        dropped.origin,
        dropped.converted_at,
        dropped.dropped_at_hop,
        dropped.root_cause,
        dropped.stalled_hop_owner as owner,
        dropped.intent_score,
        dropped.value_usd
    from dropped
    left join lead_emails
        on
            dropped.lead_key = lead_emails.lead_key
            and lead_emails.email_rank = 1

)

select * from final
