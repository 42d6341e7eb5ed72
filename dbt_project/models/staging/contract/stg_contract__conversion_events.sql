with

source as (

    select * from {{ source('contract', 'conversion_events') }}

),

renamed as (

    select
        event_name,
        conversion_type,
        value_usd
    from source

),

final as (

    select * from renamed

)

select * from final
