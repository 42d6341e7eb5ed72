{#- Select-list expression that turns one delimited string into one row per element.
    No portable SQL form exists, so each adapter brings its own. -#}
{% macro split_to_rows(column, delimiter) -%}
    {{ return(adapter.dispatch('split_to_rows', 'lead_parity')(column, delimiter)) }}
{%- endmacro %}

{% macro default__split_to_rows(column, delimiter) -%}
    {{ exceptions.raise_compiler_error("split_to_rows has no implementation for " ~ target.type) }}
{%- endmacro %}

{% macro duckdb__split_to_rows(column, delimiter) -%}
    unnest(string_split({{ column }}, '{{ delimiter }}'))
{%- endmacro %}

{% macro spark__split_to_rows(column, delimiter) -%}
    explode(split({{ column }}, '\\{{ delimiter }}'))
{%- endmacro %}
