{#- One-to-one fallback matching of SPEC section 5 (support hop): each lead's conversions, in
    converted_at order, take the earliest ticket of the lead not taken by an earlier conversion.

    `steps` holds one row per (lead_key, step_n) with the conversion's window over the lead's
    available tickets as ranks: lo_rank = first ticket created at or after c - W, hi_rank = last
    ticket created at or before c + drop_after (tickets ranked by created_at, ticket_id).
    Windows move forward with converted_at, so a ticket skipped by one step lies before every
    later window: the walk only needs the rank of the last ticket taken, and the step is
    greatest(last + 1, lo_rank) when that is <= hi_rank. Returns conversion_id, lead_key,
    ticket_rank for every conversion that took a ticket.

    The walk is sequential by nature; the default is a recursive CTE (DuckDB, Postgres,
    Spark >= 4.1). An adapter without recursive CTEs can add its own implementation. -#}
{% macro funnel_sequential_ticket_match(steps) -%}
    {{ return(adapter.dispatch('funnel_sequential_ticket_match', 'lead_parity')(steps)) }}
{%- endmacro %}

{% macro default__funnel_sequential_ticket_match(steps) -%}
with recursive

walk as (

    select
        lead_key,
        step_n,
        conversion_id,
        lo_rank as ticket_rank,
        lo_rank as last_rank
    from {{ steps }}
    where step_n = 1

    union all

    select
        next_step.lead_key,
        next_step.step_n,
        next_step.conversion_id,
        case
            when greatest(walk.last_rank + 1, next_step.lo_rank) <= next_step.hi_rank
                then greatest(walk.last_rank + 1, next_step.lo_rank)
        end as ticket_rank,
        case
            when greatest(walk.last_rank + 1, next_step.lo_rank) <= next_step.hi_rank
                then greatest(walk.last_rank + 1, next_step.lo_rank)
            else walk.last_rank
        end as last_rank
    from walk
    inner join {{ steps }} as next_step
        on walk.lead_key = next_step.lead_key
        and next_step.step_n = walk.step_n + 1

),

final as (

    select
        conversion_id,
        lead_key,
        ticket_rank
    from walk
    where ticket_rank is not null

)

select * from final
{%- endmacro %}
