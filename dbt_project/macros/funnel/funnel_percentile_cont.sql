{#- Continuous percentile as an aggregate; DuckDB and Spark spell it differently. -#}
{% macro funnel_percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('funnel_percentile_cont', 'lead_parity')(expression, fraction)) }}
{%- endmacro %}

{% macro default__funnel_percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__funnel_percentile_cont(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__funnel_percentile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}
