{#- One lead per record. A record's lead is the component of its identifiers, keyed by a hash of
    the component's earliest identifier, so a component that only gains later identifiers keeps
    its key; a record with no unguarded identifier is a lead of its own. -#}
with

records as (

    select * from {{ ref('int_identity__records_unioned') }}

),

clustered as (

    select * from {{ ref('int_identity__records_clustered') }}

),

nodes as (

    select * from {{ ref('int_identity__identifiers_ranked') }}

),

record_seeds as (

    select
        records.record_type,
        records.record_id,
        seeds.identifier_type as seed_type,
        seeds.identifier_value as seed_value
    from records
    left join clustered
        on records.record_code = clustered.record_code
    left join nodes as seeds
        on clustered.component_node_id = seeds.node_id

),

final as (

    select
        record_type,
        record_id,
        case
            when seed_type is not null
                then {{ dbt.hash(dbt.concat(["'identifier:'", 'seed_type', "':'", 'seed_value'])) }}
            else {{ dbt.hash(dbt.concat(["'record:'", 'record_type', "':'", 'record_id'])) }}
        end as lead_key
    from record_seeds

)

select * from final
