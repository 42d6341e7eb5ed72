{#- A 64-bit integer code for a record (type + id), so the identity graph joins and moves
    integers instead of strings at millions of rows. Collisions are possible in theory (about
    3e-7 for 3.5 million records); tests/singular/assert_record_codes_are_unique.sql makes one
    fail the build instead of silently merging two records. -#}
{% macro record_code(record_type, record_id) -%}
    {{ return(adapter.dispatch('record_code', 'lead_parity')(record_type, record_id)) }}
{%- endmacro %}

{% macro default__record_code(record_type, record_id) -%}
    {{ exceptions.raise_compiler_error("record_code has no implementation for " ~ target.type) }}
{%- endmacro %}

{% macro duckdb__record_code(record_type, record_id) -%}
    hash({{ record_type }}, {{ record_id }})
{%- endmacro %}

{% macro spark__record_code(record_type, record_id) -%}
    xxhash64({{ record_type }}, {{ record_id }})
{%- endmacro %}
