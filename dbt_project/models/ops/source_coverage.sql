with

manifests as (

    select * from {{ ref('stg_ingestion__source_manifests') }}

),

hops as (

    select * from {{ ref('stg_contract__hops') }}

),

hops_per_source as (

    select
        source_system as source,
        count(*) as hops_served
    from hops
    group by source_system

),

final as (

    select
        manifests.source,
        manifests.is_present,
        manifests.files,
        coalesce(hops_per_source.hops_served, 0) as hops_served,
        case when manifests.is_present then 'known' else 'unknown' end as coverage
    from manifests
    left join hops_per_source
        on manifests.source = hops_per_source.source

)

select * from final
