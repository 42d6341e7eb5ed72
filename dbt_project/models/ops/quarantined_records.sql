with

quarantined as (

    select * from {{ ref('stg_ingestion__quarantined_records') }}

),

final as (

    select
        coalesce(source, source_folder) as source,
        file,
        position,
        entity,
        reason,
        raw
    from quarantined

)

select * from final
