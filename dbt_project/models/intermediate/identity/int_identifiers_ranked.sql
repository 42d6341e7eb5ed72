{#- Graph nodes: every unguarded identifier, numbered 0..n-1 by first seen time, then type, then
    value, so the smallest node of a component is its earliest identifier (the lead_key seed). -#}
with

collected as (

    select * from {{ ref('int_identifiers_collected') }}

),

identifiers as (

    select
        identifier_type,
        identifier_value,
        min(seen_at) as first_seen_at
    from collected
    where not is_guarded
    group by
        identifier_type,
        identifier_value

),

final as (

    select
        row_number() over (
            order by first_seen_at asc nulls last, identifier_type asc, identifier_value asc
        ) - 1 as node_id,
        identifier_type,
        identifier_value,
        -- Recomputed from the grouped strings, not carried: two identifiers sharing a code stay
        -- two rows here, and the unique test on this column catches the collision.
        {{ identifier_code('identifier_type', 'identifier_value') }} as identifier_code,
        first_seen_at
    from identifiers

)

select * from final
