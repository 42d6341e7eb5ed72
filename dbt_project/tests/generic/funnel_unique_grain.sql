{#- Generic test: the listed columns together identify a row (the model's grain), on every model
    with a multi-column key (dbt_utils' unique_combination_of_columns without the package: the
    project installs none). `config: where:` narrows it, as on ops.ingestion_ledger. -#}
{% test funnel_unique_grain(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as rows_at_grain
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
