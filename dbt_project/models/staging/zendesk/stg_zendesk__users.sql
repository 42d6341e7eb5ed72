{#- Users arrive sideloaded with tickets and from the user export; both copies describe the same
    user, so the newest version per id wins (a union + de-dupe, the one exception to rename+cast). -#}
with

sideloaded_users as (

    select
        user_id,
        email,
        name,
        updated_at_utc,
        1 as source_rank
    from {{ source('zendesk_tickets', 'users') }}

),

exported_users as (

    select
        user_id,
        email,
        name,
        updated_at_utc,
        2 as source_rank
    from {{ source('zendesk_users', 'users') }}

),

unioned as (

    select * from sideloaded_users
    union all
    select * from exported_users

),

renamed as (

    select
        cast(user_id as {{ dbt.type_bigint() }}) as user_id,
        {{ blank_to_null('email') }} as email,
        {{ blank_to_null('name') }} as name,
        cast(updated_at_utc as {{ dbt.type_timestamp() }}) as updated_at,
        source_rank

    from unioned

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id
            order by updated_at desc nulls last, source_rank desc
        ) as version_rank
    from renamed

),

final as (

    select
        user_id,
        email,
        name,
        updated_at
    from ranked
    where version_rank = 1

)

select * from final
