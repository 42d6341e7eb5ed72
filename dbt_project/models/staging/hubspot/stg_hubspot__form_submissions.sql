with

source as (

    select * from {{ source('hubspot_forms', 'submissions') }}

),

renamed as (

    select
        submission_key,
        {{ blank_to_null('conversion_id') }} as conversion_id,
        form_guid,
        cast(submitted_at_utc as {{ dbt.type_timestamp() }}) as submitted_at,
        {{ blank_to_null('email') }} as email,
        {{ blank_to_null('firstname') }} as first_name,
        {{ blank_to_null('lastname') }} as last_name,
        {{ blank_to_null('company') }} as company,
        {{ blank_to_null('lead_id') }} as lead_id,
        {{ blank_to_null('anonymous_id') }} as anonymous_id,
        page_url

    from source

),

final as (

    select * from renamed

)

select * from final
