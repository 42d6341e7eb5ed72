{#- Rule 1 of the playbook (capture): per (conversion_date, origin, conversion_type), how many
    conversions carried a lead_id, a stable one (the conversion's lead has exactly one lead_id
    across all its records, so every system can join on it), an origin tag and an email.
    Shares are percentages of the slice's conversions. -#}
with

conversions as (

    select * from {{ ref('int_conversions_identified') }}

),

messages as (

    select * from {{ ref('stg_segment__messages') }}

),

leads as (

    select * from {{ ref('dim_leads') }}

),

flagged as (

    select
        conversions.conversion_date,
        conversions.origin,
        conversions.conversion_type,
        case when messages.lead_id is not null then 1 else 0 end as has_lead_id,
        case
            when messages.lead_id is not null and leads.lead_ids = 1 then 1 else 0
        end as has_stable_lead_id,
        case when messages.has_origin_tag then 1 else 0 end as has_origin_tag,
        case when conversions.email is not null then 1 else 0 end as has_email
    from conversions
    -- A conversion is one track message (first copy kept), so neither join fans out.
    left join messages
        on
            conversions.conversion_id = messages.message_id
            and messages.message_type = 'track'
    left join leads
        on conversions.lead_key = leads.lead_key

),

final as (

    select
        conversion_date,
        origin,
        conversion_type,
        count(*) as conversions,
        sum(has_lead_id) as with_lead_id,
        sum(has_stable_lead_id) as with_stable_lead_id,
        sum(has_origin_tag) as with_origin_tag,
        sum(has_email) as with_email,
        cast(100 as {{ type_double() }}) * sum(has_lead_id) / count(*) as lead_id_pct,
        cast(100 as {{ type_double() }}) * sum(has_stable_lead_id) / count(*)
            as stable_lead_id_pct,
        cast(100 as {{ type_double() }}) * sum(has_origin_tag) / count(*) as origin_tag_pct,
        cast(100 as {{ type_double() }}) * sum(has_email) / count(*) as email_pct
    from flagged
    group by
        conversion_date,
        origin,
        conversion_type

)

select * from final
