{#- Tickets the support fallback may hand out (SPEC section 5): tickets of a known lead whose
    external_id does not name a conversion with a support hop (such a ticket is claimed by that
    conversion), numbered per lead by (created_at, ticket_id). -#}
with

conversion_hops as (

    select * from {{ ref('int_conversion_hops_expanded') }}

),

tickets as (

    select * from {{ ref('int_tickets_attributed') }}

),

support_conversions as (

    select distinct conversion_id
    from conversion_hops
    where hop in ('support', 'support_assignment')

),

claimed_tickets as (

    select distinct tickets.ticket_id
    from tickets
    inner join support_conversions
        on tickets.external_id = support_conversions.conversion_id

),

final as (

    select
        tickets.ticket_id,
        tickets.lead_key,
        tickets.created_at,
        row_number() over (
            partition by tickets.lead_key
            order by tickets.created_at, tickets.ticket_id
        ) as ticket_rank
    from tickets
    left join claimed_tickets
        on tickets.ticket_id = claimed_tickets.ticket_id
    where
        tickets.lead_key is not null
        and claimed_tickets.ticket_id is null

)

select * from final
