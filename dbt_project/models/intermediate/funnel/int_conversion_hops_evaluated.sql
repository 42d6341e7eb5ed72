{#- Whether each hop of each conversion was reached (SPEC section 5), when, whether it was late,
    and whether a record of the hop's system exists for it. Each matcher already emits every
    (conversion, hop) of its hops, so this is a union, not a join. -#}
with

marketing_hops as (

    select * from {{ ref('int_marketing_hops_matched') }}

),

crm_hops as (

    select * from {{ ref('int_crm_hops_matched') }}

),

support_hops as (

    select * from {{ ref('int_support_hops_matched') }}

),

matched_hops as (

    {% for relation in ['marketing_hops', 'crm_hops', 'support_hops'] %}
        select
            conversion_id,
            hop,
            hop_order,
            is_assignment_hop,
            reached_at,
            reached_at is not null as is_reached,
            coalesce(reached_at > sla_deadline_at, false) as is_late,
            has_record
        from {{ relation }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select * from matched_hops

)

select * from final
