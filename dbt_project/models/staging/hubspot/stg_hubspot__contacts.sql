with

source as (

    select * from {{ source('hubspot_contacts', 'contacts') }}

),

renamed as (

    select
        contact_id,
        {{ blank_to_null('email') }} as email,
        {{ blank_to_null('hs_additional_emails') }} as additional_emails,
        {{ blank_to_null('firstname') }} as first_name,
        {{ blank_to_null('lastname') }} as last_name,
        {{ blank_to_null('company') }} as company,
        {{ blank_to_null('lead_id') }} as lead_id,
        cast(createdate_utc as {{ dbt.type_timestamp() }}) as created_at,
        {{ blank_to_null('hubspot_owner_id') }} as owner_id,
        cast(hubspot_owner_assigneddate_utc as {{ dbt.type_timestamp() }}) as owner_assigned_at,
        cast(updated_at_utc as {{ dbt.type_timestamp() }}) as updated_at,
        coalesce(archived, false) as is_archived

    from source

),

final as (

    select * from renamed

)

select * from final
