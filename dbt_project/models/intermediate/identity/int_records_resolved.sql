{#- One lead per record: every record of int_records_unioned, once (left joins on
    keys that are unique on the right). A record's lead is the component of its identifiers,
    keyed by a hash of the component's earliest identifier, so a component that only gains later
    identifiers keeps its key; a record with no unguarded identifier is a lead of its own. -#}
with

records as (

    select * from {{ ref('int_records_unioned') }}

),

clustered as (

    select * from {{ ref('int_records_clustered') }}

),

nodes as (

    select * from {{ ref('int_identifiers_ranked') }}

),

-- One key per component, hashed once from its seed, not once per record carrying it.
component_keys as (

    select
        nodes.node_id as component_node_id,
        {{ dbt.hash(dbt.concat([
            "'identifier:'", 'nodes.identifier_type', "':'", 'nodes.identifier_value'
        ])) }} as lead_key
    from nodes
    where nodes.node_id in (select clustered.component_node_id from clustered)

),

final as (

    select
        records.record_type,
        records.record_id,
        records.record_code,
        records.record_at,
        clustered.component_node_id,
        coalesce(
            component_keys.lead_key,
            {{ dbt.hash(dbt.concat([
                "'record:'", 'records.record_type', "':'", 'records.record_id'
            ])) }}
        ) as lead_key
    from records
    left join clustered
        on records.record_code = clustered.record_code
    left join component_keys
        on clustered.component_node_id = component_keys.component_node_id

)

select * from final
