{#- The input of the one-to-one ticket walk (SPEC section 5, support fallback): one row per
    conversion with no ticket by external_id and at least one available ticket of its lead in
    [c - W, c + drop_after], numbered per lead in converted_at order (step_n), with its window
    as ranks over the lead's available tickets (lo_rank..hi_rank). -#}
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

support_conversions as (

    -- A chain with support_assignment but no support still needs "that ticket".
    select
        conversion_id,
        lead_key,
        converted_at,
        min(window_start_at) as window_start_at,
        coalesce(
            max(case when hop = 'support' then drop_deadline_at end),
            max(drop_deadline_at)
        ) as window_end_at
    from conversion_hops
    where hop in ('support', 'support_assignment')
    group by
        conversion_id,
        lead_key,
        converted_at

),

external_matches as (

    select distinct support_conversions.conversion_id
    from support_conversions
    inner join tickets
        on support_conversions.conversion_id = tickets.external_id

),

fallback_conversions as (

    select support_conversions.*
    from support_conversions
    left join external_matches
        on support_conversions.conversion_id = external_matches.conversion_id
    where external_matches.conversion_id is null

),

windows as (

    select
        fallback_conversions.conversion_id,
        fallback_conversions.lead_key,
        fallback_conversions.converted_at,
        min(
            case
                when available_tickets.created_at >= fallback_conversions.window_start_at
                    then available_tickets.ticket_rank
            end
        ) as lo_rank,
        max(
            case
                when available_tickets.created_at <= fallback_conversions.window_end_at
                    then available_tickets.ticket_rank
            end
        ) as hi_rank
    from fallback_conversions
    inner join available_tickets
        on fallback_conversions.lead_key = available_tickets.lead_key
    group by
        fallback_conversions.conversion_id,
        fallback_conversions.lead_key,
        fallback_conversions.converted_at

),

final as (

    -- A conversion whose window holds no ticket cannot change the walk, so it is left out.
    select
        conversion_id,
        lead_key,
        converted_at,
        lo_rank,
        hi_rank,
        row_number() over (
            partition by lead_key
            order by converted_at, conversion_id
        ) as step_n
    from windows
    where lo_rank <= hi_rank

)

select * from final
