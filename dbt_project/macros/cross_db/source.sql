{#- Landed sources are Parquet files named by each source's `external_location` meta
    (docs/landed-layout.md). dbt-duckdb reads that meta itself; on Spark the same files are read
    in place as path tables (parquet.`<file>`), so no catalog entry and no DuckDB file sits
    between ingestion and the build. Every other adapter gets dbt's own source(). -#}
{% macro source(source_name, table_name) -%}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if target.type != 'spark' or not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | first -%}
    {%- set location = node.meta.external_location or node.source_meta.external_location -%}
    {%- if not location -%}
        {{ exceptions.raise_compiler_error("source " ~ source_name ~ "." ~ table_name ~ " has no external_location meta") }}
    {%- endif -%}
    {{ return(api.Relation.create(
        schema='parquet',
        identifier=location.format(identifier=node.identifier, name=node.name),
        quote_policy={'schema': false, 'identifier': true}
    )) }}
{%- endmacro %}
