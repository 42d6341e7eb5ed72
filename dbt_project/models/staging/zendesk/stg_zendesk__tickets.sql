with

source as (

    select * from {{ source('zendesk_tickets', 'tickets') }}

),

renamed as (

    select
        cast(ticket_id as {{ dbt.type_bigint() }}) as ticket_id,
        cast(created_at_utc as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at_utc as {{ dbt.type_timestamp() }}) as updated_at,
        cast({{ blank_to_null('requester_id') }} as {{ dbt.type_bigint() }}) as requester_id,
        cast({{ blank_to_null('assignee_id') }} as {{ dbt.type_bigint() }}) as assignee_id,
        {{ blank_to_null('external_id') }} as external_id,
        status,
        via_channel

    from source

),

final as (

    select * from renamed

)

select * from final
