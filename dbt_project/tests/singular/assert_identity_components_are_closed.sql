-- The component step must converge: every record carrying an unguarded identifier lands in the
-- component of every other record carrying it. Grouped by the identifier's code, so the check
-- needs no second join to the numbered nodes.
with

collected as (

    select * from {{ ref('int_identifiers_collected') }}

),

clustered as (

    select * from {{ ref('int_records_clustered') }}

),

final as (

    select collected.identifier_code
    from collected
    inner join clustered
        on collected.record_code = clustered.record_code
    where not collected.is_guarded
    group by collected.identifier_code
    having min(clustered.component_node_id) <> max(clustered.component_node_id)

)

select * from final
