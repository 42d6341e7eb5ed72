with

source as (

    select * from {{ source('contract', 'conversion_hops') }}

),

renamed as (

    select
        conversion_type as conversion_type,
        hop as hop,
        hop_order as hop_order
    from source

),

final as (

    select * from renamed

)

select * from final
