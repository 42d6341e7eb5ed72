{#- SPEC section 6 names the schemas `marts` and `ops` exactly, so a custom schema is used
    verbatim instead of dbt's default `<target>_<custom>` prefixing. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
