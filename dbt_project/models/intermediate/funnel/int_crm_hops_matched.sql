{#- CRM hops (SPEC section 5). crm: the lead has a contact created by c + drop_after, reached at
    max(earliest such createdate, c). crm_assignment: a contact of the lead has an owner and an
    assigned date, reached at max(earliest such date, c). has_record: the lead has a contact at
    all (the `unassigned` root cause). One row per (conversion, crm hop of its chain). -#}
with

conversion_hops as (

    select * from {{ ref('int_conversion_hops_expanded') }}

),

contacts as (

    select * from {{ ref('int_contacts_attributed') }}

),

lead_contacts as (

    select
        conversion_hops.conversion_id,
        conversion_hops.hop,
        min(conversion_hops.hop_order) as hop_order,
        min(conversion_hops.sla_deadline_at) as sla_deadline_at,
        max(case when conversion_hops.is_assignment_hop then 1 else 0 end) = 1
            as is_assignment_hop,
        min(conversion_hops.converted_at) as converted_at,
        min(
            case
                when contacts.created_at <= conversion_hops.drop_deadline_at
                    then contacts.created_at
            end
        ) as first_created_at,
        min(contacts.owner_assigned_at) as first_assigned_at,
        count(contacts.contact_id) > 0 as has_record
    from conversion_hops
    left join contacts
        on conversion_hops.lead_key = contacts.lead_key
    where conversion_hops.hop in ('crm', 'crm_assignment')
    group by
        conversion_hops.conversion_id,
        conversion_hops.hop

),

final as (

    select
        conversion_id,
        hop,
        hop_order,
        sla_deadline_at,
        is_assignment_hop,
        case
            when hop = 'crm' and first_created_at is not null
                then greatest(first_created_at, converted_at)
            when hop = 'crm_assignment' and first_assigned_at is not null
                then greatest(first_assigned_at, converted_at)
        end as reached_at,
        has_record
    from lead_contacts

)

select * from final
