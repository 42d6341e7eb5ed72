with

ledgers as (

    select * from {{ ref('stg_ingestion__ledgers') }}

),

final as (

    select
        coalesce(source, source_folder) as source,
        file,
        records_read,
        records_loaded,
        records_quarantined,
        duplicates,
        size_bytes,
        content_hash,
        is_current,
        in_input
    from ledgers

)

select * from final
