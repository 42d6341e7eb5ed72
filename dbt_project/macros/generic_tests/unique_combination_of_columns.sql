{#- Grain test for multi-column keys (no dbt_utils dependency; the project installs no packages). -#}
{% test unique_combination_of_columns(model, columns) %}

with

grouped as (

    select
        {{ columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ columns | join(', ') }}

),

final as (

    select * from grouped
    where row_count > 1

)

select * from final

{% endtest %}
