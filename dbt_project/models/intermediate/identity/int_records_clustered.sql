{#- The identity graph's connected components on adapters other than DuckDB, where the numpy
    union-find beside this file (int_records_clustered.py) cannot run: SQL label
    propagation (macros/identity/identity_label_propagation.sql), same contract, same result.
    Exactly one of the two is enabled (dbt_project.yml, var identity_components). -#}
{{ config(
    enabled=var(
        'identity_components', 'union_find' if target.type == 'duckdb' else 'label_propagation'
    ) == 'label_propagation',
    post_hook="{{ drop_identity_scratch() }}"
) }}

{%- set edges -%}
(
    select
        collected.record_code,
        nodes.node_id
    from {{ ref('int_identifiers_collected') }} as collected
    inner join {{ ref('int_identifiers_ranked') }} as nodes
        on collected.identifier_code = nodes.identifier_code
    where not collected.is_guarded
) as pairs
{%- endset -%}

{%- if execute and flags.WHICH in ('run', 'build') -%}
    {%- set propagated = identity_label_propagation(edges) -%}
    {%- set edge_table, labels = propagated.edges, propagated.labels -%}
{%- else -%}
    {#- Compile, docs and parse only need the query's shape, not the loop's side effects. -#}
    {%- set edge_table = edges -%}
    {%- set labels = '(select node_id, node_id as label from ' ~ edges ~ ') as labels_shape' -%}
{%- endif %}

with

edges as (

    select * from {{ edge_table }}

),

labels as (

    select * from {{ labels }}

),

final as (

    select
        edges.record_code,
        min(labels.label) as component_node_id
    from edges
    inner join labels
        on edges.node_id = labels.node_id
    group by edges.record_code

)

select * from final
