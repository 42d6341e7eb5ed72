{#- Connected components of the bipartite record/identifier graph by SQL label propagation, for
    adapters that cannot run the numpy union-find (int_records_clustered.py).

    `edges` holds (record_code, node_id) pairs. Every identifier node starts labelled with itself;
    each round (1) gives every record the smallest label among its identifiers and every
    identifier the smallest label among its records, (2) hooks each current label (a root) under
    the smallest label reached by any node pointing at it, and (3) jumps every node to its
    label's label. Labels only decrease, so the loop ends; at the fixed point all identifiers of a
    record share one label, which is then the smallest node of the component. Hooking and jumping
    make the number of rounds grow with the log of the component diameter instead of with it.

    Runs one statement per step through run_query (scratch tables beside the model, dropped at
    the end), because a loop of unknown length has no single-statement form on most warehouses.
    Returns the relation holding (node_id, label) at the fixed point. -#}
{% macro identity_label_propagation(edges, max_rounds=64) -%}
    {%- set scratch = identity_scratch_relations() -%}
    {%- set edge_table, current, following, hooked = scratch -%}
    {%- for relation in scratch -%}
        {%- do adapter.drop_relation(relation) -%}
    {%- endfor -%}

    {%- do run_query(create_table_as(false, edge_table, 'select distinct record_code, node_id from ' ~ edges)) -%}
    {%- do run_query(create_table_as(false, current,
        'select distinct node_id, node_id as label from ' ~ edge_table)) -%}

    {%- set state = namespace(current=current, following=following, converged=false, rounds=0) -%}
    {%- for round in range(max_rounds) if not state.converged -%}
        {%- set hook_sql -%}
            with record_labels as (
                select edges.record_code, min(labels.label) as label
                from {{ edge_table }} as edges
                inner join {{ state.current }} as labels on edges.node_id = labels.node_id
                group by edges.record_code
            ),
            reached as (
                select edges.node_id, min(record_labels.label) as label
                from {{ edge_table }} as edges
                inner join record_labels on edges.record_code = record_labels.record_code
                group by edges.node_id
            ),
            root_hooks as (
                select labels.label as node_id, min(reached.label) as label
                from {{ state.current }} as labels
                inner join reached on labels.node_id = reached.node_id
                group by labels.label
            )
            select
                labels.node_id,
                case
                    when coalesce(root_hooks.label, labels.label) < coalesce(reached.label, labels.label)
                        then coalesce(root_hooks.label, labels.label)
                    else coalesce(reached.label, labels.label)
                end as label
            from {{ state.current }} as labels
            left join reached on labels.node_id = reached.node_id
            left join root_hooks on labels.node_id = root_hooks.node_id
        {%- endset -%}
        {%- do adapter.drop_relation(hooked) -%}
        {%- do run_query(create_table_as(false, hooked, hook_sql)) -%}

        {%- set jump_sql -%}
            select
                hooked.node_id,
                case when parent.label < hooked.label then parent.label else hooked.label end as label
            from {{ hooked }} as hooked
            inner join {{ hooked }} as parent on hooked.label = parent.node_id
        {%- endset -%}
        {%- do adapter.drop_relation(state.following) -%}
        {%- do run_query(create_table_as(false, state.following, jump_sql)) -%}

        {%- set changed = run_query(
            'select count(*) from ' ~ state.following ~ ' as following inner join '
            ~ state.current ~ ' as labels on following.node_id = labels.node_id'
            ~ ' where following.label <> labels.label'
        ).columns[0].values()[0] -%}
        {%- set previous = state.current -%}
        {%- set state.current = state.following -%}
        {%- set state.following = previous -%}
        {%- set state.rounds = state.rounds + 1 -%}
        {%- set state.converged = (changed | int) == 0 -%}
    {%- endfor -%}
    {%- if not state.converged -%}
        {{ exceptions.raise_compiler_error("identity label propagation did not converge in " ~ max_rounds ~ " rounds") }}
    {%- endif -%}
    {{ log("identity label propagation converged in " ~ state.rounds ~ " rounds") }}
    {%- do adapter.drop_relation(hooked) -%}
    {%- do adapter.drop_relation(state.following) -%}
    {{ return({'labels': state.current, 'edges': edge_table}) }}
{%- endmacro %}

{#- Post-hook of the model that called identity_label_propagation: its scratch tables go once
    the model's own table exists. Renders no SQL. -#}
{% macro drop_identity_scratch() -%}
    {%- if execute -%}
        {%- for relation in identity_scratch_relations() -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The scratch tables of the calling model, beside it: edges, two label generations, hooked. -#}
{% macro identity_scratch_relations() -%}
    {%- set relations = [] -%}
    {%- for name in ['edges', 'labels_a', 'labels_b', 'hooked'] -%}
        {%- do relations.append(this.incorporate(
            path={'identifier': this.identifier ~ '__' ~ name}, type='table'
        )) -%}
    {%- endfor -%}
    {{ return(relations) }}
{%- endmacro %}
