{#- Generic test: the listed columns together identify a row (the model's grain). -#}
{% test funnel_unique_grain(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as rows_at_grain
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
