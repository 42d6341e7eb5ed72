-- The component step must converge: every record carrying an identifier lands in one component.
with

collected as (

    select * from {{ ref('int_identity__identifiers_collected') }}

),

nodes as (

    select * from {{ ref('int_identity__identifiers_ranked') }}

),

clustered as (

    select * from {{ ref('int_identity__records_clustered') }}

),

final as (

    select nodes.node_id
    from collected
    inner join nodes
        on
            collected.identifier_type = nodes.identifier_type
            and collected.identifier_value = nodes.identifier_value
    inner join clustered
        on collected.record_code = clustered.record_code
    where not collected.is_guarded
    group by nodes.node_id
    having min(clustered.component_node_id) <> max(clustered.component_node_id)

)

select * from final
