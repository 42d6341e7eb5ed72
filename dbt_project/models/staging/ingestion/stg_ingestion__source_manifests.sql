with

{% for landed_source in landed_sources() %}
    {{ landed_source }}_manifest as (

        select
            '{{ landed_source }}' as source,
            coalesce(is_present, false) as is_present,
            cast(files as {{ dbt.type_bigint() }}) as files
        from {{ source(landed_source, 'manifest') }}

    ),

{% endfor %}
unioned as (

    {% for landed_source in landed_sources() %}
        select * from {{ landed_source }}_manifest
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    -- A manifest holds one row; a missing row means ingestion never ran for that source.
    select
        source,
        max(case when is_present then 1 else 0 end) = 1 as is_present,
        cast(coalesce(sum(files), 0) as {{ dbt.type_bigint() }}) as files
    from unioned
    group by source

)

select * from final
