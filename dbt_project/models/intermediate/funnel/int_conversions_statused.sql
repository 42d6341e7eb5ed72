{#- The verdict of SPEC section 5 per conversion: the first hop of the chain not reached decides
    `dropped` (as_of - converted_at > its drop_after) or `pending`; all hops reached is
    `delivered` (`late` when a hop missed its sla). When the first unreached hop's system is not
    in the stack the verdict is `unknown`: nothing can be said about it. Carries the facts of
    that first unreached ("stalled") hop that its root cause needs. -#}
with

conversions as (

    select * from {{ ref('int_conversions_identified') }}

),

conversion_hops as (

    select * from {{ ref('int_conversion_hops_evaluated') }}

),

chain_hops as (

    select * from {{ ref('stg_contract__conversion_hops') }}

),

hops as (

    select * from {{ ref('stg_contract__hops') }}

),

source_manifests as (

    select * from {{ ref('stg_ingestion__source_manifests') }}

),

receipts as (

    select * from {{ ref('int_receipts_summarized') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

enrichment_receipts as (

    select * from receipts
    where hop = 'enrichment'

),

hop_rollup as (

    -- stalled_code packs the first unreached hop's order and whether its record exists
    -- (order * 2 + has_record) so one pass over the hops finds both.
    select
        conversion_id,
        min(
            case
                when not is_reached
                    then hop_order * 2 + case when has_record then 1 else 0 end
            end
        ) as stalled_code,
        max(case when is_late then 1 else 0 end) = 1 as has_late_hop,
        {%- for hop in var('hops') %}
            max(case when hop = '{{ hop }}' then reached_at end) as {{ hop }}_reached_at,
        {%- endfor %}
        max(case when is_assignment_hop then reached_at end) as assignment_reached_at
    from conversion_hops
    group by conversion_id

),

hop_terms as (

    select
        chain_hops.conversion_type,
        chain_hops.hop_order,
        chain_hops.hop,
        hops.hop_kind,
        hops.drop_after_s,
        hops.owner,
        coalesce(source_manifests.is_present, false) as is_covered
    from chain_hops
    inner join hops
        on chain_hops.hop = hops.hop
    left join source_manifests
        on hops.source_system = source_manifests.source

),

rolled_up as (

    select
        conversions.*,
        hop_rollup.has_late_hop,
        {%- for hop in var('hops') %}
            hop_rollup.{{ hop }}_reached_at,
        {%- endfor %}
        hop_rollup.assignment_reached_at,
        cast(floor(hop_rollup.stalled_code / 2) as {{ dbt.type_int() }}) as stalled_hop_order,
        hop_rollup.stalled_code - 2 * floor(hop_rollup.stalled_code / 2) = 1 as stalled_has_record
    from conversions
    inner join hop_rollup
        on conversions.conversion_id = hop_rollup.conversion_id

),

judged as (

    select
        rolled_up.*,
        hop_terms.hop as stalled_at_hop,
        hop_terms.hop_kind as stalled_hop_kind,
        hop_terms.owner as stalled_hop_owner,
        {{ dbt.dateadd('second', '-1 * settings.match_window_s', 'rolled_up.converted_at') }}
            as stalled_window_start_at,
        {{ dbt.dateadd('second', 'settings.match_window_s', 'rolled_up.converted_at') }}
            as stalled_window_end_at,
        {{ dbt.dateadd('second', 'hop_terms.drop_after_s', 'rolled_up.converted_at') }}
            as stalled_drop_deadline_at,
        case
            when hop_terms.hop is null then 'delivered'
            when not hop_terms.is_covered then 'unknown'
            when
                settings.as_of
                > {{ dbt.dateadd('second', 'hop_terms.drop_after_s', 'rolled_up.converted_at') }}
                then 'dropped'
            else 'pending'
        end as status
    from rolled_up
    left join hop_terms
        on
            rolled_up.conversion_type = hop_terms.conversion_type
            and rolled_up.stalled_hop_order = hop_terms.hop_order
    cross join settings

),

final as (

    select
        judged.conversion_id,
        judged.lead_key,
        judged.event_name,
        judged.conversion_type,
        judged.origin,
        judged.converted_at,
        judged.conversion_date,
        judged.intent_score,
        judged.value_usd,
        judged.email,
        judged.status,
        judged.stalled_at_hop,
        judged.stalled_hop_order,
        judged.stalled_hop_kind,
        judged.stalled_hop_owner,
        judged.stalled_window_start_at,
        judged.stalled_window_end_at,
        judged.stalled_drop_deadline_at,
        coalesce(judged.stalled_has_record, false) as stalled_has_record,
        coalesce(hop_receipts.receipts, 0) as stalled_hop_receipts,
        coalesce(hop_receipts.successful_receipts, 0) as stalled_hop_successful_receipts,
        coalesce(enrichment_receipts.receipts, 0) as stalled_enrichment_receipts,
        coalesce(enrichment_receipts.successful_receipts, 0)
            as stalled_enrichment_successful_receipts,
        {%- for hop in var('hops') %}
            judged.{{ hop }}_reached_at,
        {%- endfor %}
        judged.stalled_at_hop is null and judged.has_late_hop as is_late,
        judged.assignment_reached_at,
        {{ dbt.datediff('judged.converted_at', 'judged.assignment_reached_at', 'second') }}
            as assignment_latency_s
    from judged
    left join receipts as hop_receipts
        on
            judged.conversion_id = hop_receipts.conversion_id
            and judged.stalled_at_hop = hop_receipts.hop
    -- Equality only: a condition on one side alone would turn the hash join into a loop join.
    left join enrichment_receipts
        on judged.conversion_id = enrichment_receipts.conversion_id

)

select * from final
