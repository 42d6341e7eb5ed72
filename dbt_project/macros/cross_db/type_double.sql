{#- An 8-byte float. dbt.type_float() is 4 bytes on DuckDB (FLOAT = REAL), and an unadorned
    100.0 is a DECIMAL on Spark, so percentages would differ in type and digits between engines. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'lead_parity')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
