{#- The root cause of every dropped conversion, first rule of SPEC section 5 that applies:
    record hops identity_mismatch, integration_failure, silent_drop; assignment hops
    enrichment_failure, unassigned; else no_trace. -#}
with

conversions as (

    select * from {{ ref('int_conversions_statused') }}

),

lookalikes as (

    select * from {{ ref('int_lookalike_records_found') }}

),

final as (

    select
        conversions.*,
        case when conversions.status = 'dropped' then conversions.stalled_at_hop end
            as dropped_at_hop,
        case
            when conversions.status <> 'dropped' then null
            when conversions.stalled_hop_kind = 'record' and lookalikes.conversion_id is not null
                then 'identity_mismatch'
            when
                conversions.stalled_hop_kind = 'record'
                and conversions.stalled_hop_receipts > 0
                and conversions.stalled_hop_successful_receipts = 0
                then 'integration_failure'
            when
                conversions.stalled_hop_kind = 'record'
                and conversions.stalled_hop_successful_receipts > 0
                then 'silent_drop'
            when
                conversions.stalled_hop_kind = 'assignment'
                and conversions.stalled_enrichment_receipts > 0
                and conversions.stalled_enrichment_successful_receipts = 0
                then 'enrichment_failure'
            when conversions.stalled_hop_kind = 'assignment' and conversions.stalled_has_record
                then 'unassigned'
            else 'no_trace'
        end as root_cause
    from conversions
    left join lookalikes
        on conversions.conversion_id = lookalikes.conversion_id

)

-- final passes int_conversions_statused's columns on (one per hop of var('hops')); sqlfluff
-- cannot count a wildcard over a ref, and listing them would restate that model.
select * from final  -- noqa: AM04
