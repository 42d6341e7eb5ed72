with

source as (

    select * from {{ source('receipts', 'receipts') }}

),

renamed as (

    select
        receipt_id,
        message_id as conversion_id,
        hop,
        {{ blank_to_null('destination') }} as destination,
        cast(attempted_at_utc as {{ dbt.type_timestamp() }}) as attempted_at,
        cast(status_code as {{ dbt.type_int() }}) as status_code,
        outcome,
        {{ blank_to_null('error') }} as error

    from source

),

final as (

    select * from renamed

)

select * from final
