with

source as (

    select * from {{ source('contract', 'hops') }}

),

renamed as (

    select
        hop as hop,
        drop_after_s as drop_after_s,
        sla_s as sla_s,
        owner as owner,
        hop_kind as hop_kind,
        source_system as source_system
    from source

),

final as (

    select * from renamed

)

select * from final
