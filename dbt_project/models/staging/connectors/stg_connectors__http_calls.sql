with

source as (

    select * from {{ source('connectors', 'http_calls') }}

),

renamed as (

    select
        cast(requested_at as {{ dbt.type_timestamp() }}) as requested_at,
        vendor,
        stream,
        method,
        endpoint,
        cast(status as {{ dbt.type_int() }}) as status,
        retries,
        rate_limited,
        waited_s
    from source

),

final as (

    select * from renamed

)

select * from final
