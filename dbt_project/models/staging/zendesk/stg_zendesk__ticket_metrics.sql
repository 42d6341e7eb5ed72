with

source as (

    select * from {{ source('zendesk_tickets', 'metric_sets') }}

),

renamed as (

    select
        cast(ticket_id as {{ dbt.type_bigint() }}) as ticket_id,
        cast(initially_assigned_at_utc as {{ dbt.type_timestamp() }}) as initially_assigned_at

    from source

),

final as (

    select * from renamed

)

select * from final
