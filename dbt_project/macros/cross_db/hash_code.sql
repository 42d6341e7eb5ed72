{#- 64-bit integer codes for (type, text) pairs, so the identity graph joins, groups and moves
    integers instead of strings at millions of rows: record_code names a record (type + id),
    identifier_code an identifier (type + value). Collisions are possible in theory (about 3e-7
    for 3.5 million records, 4e-7 for 4 million identifiers); a test on each code
    (unique record_code on int_records_resolved, unique identifier_code on
    int_identifiers_ranked) fails the build instead of silently merging two of them. -#}
{% macro record_code(record_type, record_id) -%}
    {{ hash_code(record_type, record_id) }}
{%- endmacro %}

{% macro identifier_code(identifier_type, identifier_value) -%}
    {{ hash_code(identifier_type, identifier_value) }}
{%- endmacro %}

{% macro hash_code(kind, text) -%}
    {{ return(adapter.dispatch('hash_code', 'lead_parity')(kind, text)) }}
{%- endmacro %}

{% macro default__hash_code(kind, text) -%}
    {{ exceptions.raise_compiler_error("hash_code has no implementation for " ~ target.type) }}
{%- endmacro %}

{% macro duckdb__hash_code(kind, text) -%}
    hash({{ kind }}, {{ text }})
{%- endmacro %}

{% macro spark__hash_code(kind, text) -%}
    xxhash64({{ kind }}, {{ text }})
{%- endmacro %}
