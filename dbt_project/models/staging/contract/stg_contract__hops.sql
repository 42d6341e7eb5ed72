with

source as (

    select * from {{ source('contract', 'hops') }}

),

renamed as (

    select
        hop,
        drop_after_s,
        sla_s,
        owner,
        hop_kind,
        source_system
    from source

),

final as (

    select * from renamed

)

select * from final
