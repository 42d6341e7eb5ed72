-- record_code (a 64-bit hash of record type + id) must name one record only; see the macro.
with

records as (

    select * from {{ ref('int_identity__records_unioned') }}

),

final as (

    select record_code
    from records
    group by record_code
    having count(*) > 1

)

select * from final
