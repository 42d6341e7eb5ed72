with

source as (

    select * from {{ source('segment', 'messages') }}

),

renamed as (

    select
        message_id,
        type as message_type,
        event as event_name,
        cast(timestamp_utc as {{ dbt.type_timestamp() }}) as sent_at,
        {{ blank_to_null('anonymous_id') }} as anonymous_id,
        {{ blank_to_null('user_id') }} as user_id,
        coalesce(
            {{ blank_to_null('properties_email') }},
            {{ blank_to_null('traits_email') }},
            {{ blank_to_null('context_traits_email') }}
        ) as email,
        coalesce(
            {{ blank_to_null('properties_lead_id') }},
            {{ blank_to_null('traits_lead_id') }},
            {{ blank_to_null('context_traits_lead_id') }}
        ) as lead_id,
        coalesce(
            {{ blank_to_null('properties_first_name') }},
            {{ blank_to_null('traits_first_name') }},
            {{ blank_to_null('context_traits_first_name') }}
        ) as first_name,
        coalesce(
            {{ blank_to_null('properties_last_name') }},
            {{ blank_to_null('traits_last_name') }},
            {{ blank_to_null('context_traits_last_name') }}
        ) as last_name,
        coalesce(
            {{ blank_to_null('properties_company') }},
            {{ blank_to_null('traits_company') }},
            {{ blank_to_null('context_traits_company') }}
        ) as company,
        {{ dbt.safe_cast(blank_to_null('properties_intent_score'), 'double') }} as intent_score,
        coalesce({{ blank_to_null('campaign_source') }}, 'direct') as origin,
        {{ blank_to_null('campaign_source') }} is not null as has_origin_tag,
        _file as source_file,
        _position as source_position

    from source
    -- SPEC section 2: messages of other types are read and ignored.
    where type in ('track', 'identify')

),

final as (

    select * from renamed

)

select * from final
