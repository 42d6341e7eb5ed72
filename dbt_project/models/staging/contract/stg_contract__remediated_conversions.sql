{#- Conversions `lead-parity remediate` re-sent, one row per conversion: the first send.
    Landed with the contract tables from history/remediation.sqlite (docs/remediation.md). -#}
with

source as (

    select * from {{ source('contract', 'remediated') }}

),

renamed as (

    select
        conversion_id,
        hop,
        cast(remediated_at as {{ dbt.type_timestamp() }}) as remediated_at
    from source

),

final as (

    select
        conversion_id,
        min(remediated_at) as remediated_at
    from renamed
    group by conversion_id

)

select * from final
