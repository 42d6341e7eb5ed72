with

source as (

    select * from {{ source('contract', 'conversion_hops') }}

),

renamed as (

    select
        conversion_type,
        hop,
        hop_order
    from source

),

final as (

    select * from renamed

)

select * from final
