-- SPEC section 4: a guarded identifier (role-account email, shared device) never becomes a node.
with

collected as (

    select * from {{ ref('int_identifiers_collected') }}

),

nodes as (

    select * from {{ ref('int_identifiers_ranked') }}

),

final as (

    select nodes.*
    from nodes
    inner join collected
        on nodes.identifier_code = collected.identifier_code
    where collected.is_guarded

)

select * from final
