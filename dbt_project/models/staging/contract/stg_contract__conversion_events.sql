with

source as (

    select * from {{ source('contract', 'conversion_events') }}

),

renamed as (

    select
        event_name as event_name,
        conversion_type as conversion_type,
        value_usd as value_usd
    from source

),

final as (

    select * from renamed

)

select * from final
