with

source as (

    select * from {{ source('contract', 'settings') }}

),

renamed as (

    select
        cast(as_of as {{ dbt.type_timestamp() }}) as as_of,
        match_window_s,
        shared_device_emails,
        parity_discrepancy_pct,
        critical_discrepancy_pct,
        min_slice_volume,
        enrichment_success_pct,
        median_assignment_latency_s,
        high_intent_score,
        high_intent_unassigned_after_s,
        quarantined_records,
        lead_id_coverage_pct,
        cast(roi_baseline_week as date) as roi_baseline_week
    from source

),

final as (

    select * from renamed

)

select * from final
