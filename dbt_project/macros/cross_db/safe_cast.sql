{#- dbt-core's default safe_cast is a plain cast, which fails on 'n/a'; DuckDB has try_cast.
    dbt resolves dbt-namespace dispatches in the root project first, so this overrides it. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
