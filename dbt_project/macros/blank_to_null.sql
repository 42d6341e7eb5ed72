{#- Sources spell "no value" as null, '' or whitespace; staging turns all three into null. -#}
{% macro blank_to_null(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
