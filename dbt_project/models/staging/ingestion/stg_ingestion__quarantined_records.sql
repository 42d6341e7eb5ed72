with

{% for landed_source in landed_sources() %}
    {{ landed_source }}_quarantine as (

        select
            '{{ landed_source }}' as source_folder,
            source,
            file,
            cast(position as {{ dbt.type_bigint() }}) as position,
            entity,
            reason,
            raw
        from {{ source(landed_source, 'quarantine') }}

    ),

{% endfor %}
final as (

    {% for landed_source in landed_sources() %}
        select * from {{ landed_source }}_quarantine
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
