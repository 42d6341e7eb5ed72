with

source as (

    select * from {{ source('contract', 'role_accounts') }}

),

renamed as (

    select lower(trim(local_part)) as local_part
    from source

),

final as (

    select * from renamed

)

select * from final
