{#- Support hops (SPEC section 5). support: the ticket whose external_id is the conversion id
    (earliest if several), else the ticket the one-to-one fallback walk gave it; reached at its
    created_at. support_assignment: that ticket has an assignee and initially_assigned_at;
    reached then. has_record: the conversion has a ticket (the `unassigned` root cause). One row
    per (conversion, support hop of its chain). -#}
with

conversion_hops as (

    select * from {{ ref('int_conversion_hops_expanded') }}

),

tickets as (

    select * from {{ ref('int_tickets_attributed') }}

),

available_tickets as (

    select * from {{ ref('int_support_tickets_ranked') }}

),

walked as (

    select * from {{ ref('int_support_tickets_walked') }}

),

support_conversions as (

    select distinct conversion_id
    from conversion_hops
    where hop in ('support', 'support_assignment')

),

external_candidates as (

    select
        support_conversions.conversion_id,
        tickets.ticket_id,
        row_number() over (
            partition by support_conversions.conversion_id
            order by tickets.created_at, tickets.ticket_id
        ) as candidate_rank
    from support_conversions
    inner join tickets
        on support_conversions.conversion_id = tickets.external_id

),

matched_tickets as (

    select
        conversion_id,
        ticket_id,
        'external_id' as match_method
    from external_candidates
    where candidate_rank = 1

    union all

    select
        walked.conversion_id,
        available_tickets.ticket_id,
        'fallback' as match_method
    from walked
    inner join available_tickets
        on
            walked.lead_key = available_tickets.lead_key
            and walked.ticket_rank = available_tickets.ticket_rank

),

final as (

    select
        conversion_hops.conversion_id,
        conversion_hops.hop,
        conversion_hops.hop_order,
        conversion_hops.sla_deadline_at,
        conversion_hops.is_assignment_hop,
        matched_tickets.ticket_id,
        matched_tickets.match_method,
        case
            when conversion_hops.hop = 'support' then tickets.created_at
            else tickets.initially_assigned_at
        end as reached_at,
        matched_tickets.ticket_id is not null as has_record
    from conversion_hops
    left join matched_tickets
        on conversion_hops.conversion_id = matched_tickets.conversion_id
    left join tickets
        on matched_tickets.ticket_id = tickets.ticket_id
    where conversion_hops.hop in ('support', 'support_assignment')

)

select * from final
