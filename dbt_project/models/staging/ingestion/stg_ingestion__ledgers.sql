with

{% for landed_source in landed_sources() %}
    {{ landed_source }}_ledger as (

        select
            '{{ landed_source }}' as source_folder,
            source,
            file,
            cast(records_read as {{ dbt.type_bigint() }}) as records_read,
            cast(records_loaded as {{ dbt.type_bigint() }}) as records_loaded,
            cast(records_quarantined as {{ dbt.type_bigint() }}) as records_quarantined,
            cast(duplicates as {{ dbt.type_bigint() }}) as duplicates,
            cast(size_bytes as {{ dbt.type_bigint() }}) as size_bytes,
            content_hash,
            is_current,
            in_input
        from {{ source(landed_source, 'ledger') }}

    ),

{% endfor %}
final as (

    {% for landed_source in landed_sources() %}
        select * from {{ landed_source }}_ledger
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
