{#- Every record that can carry identifiers (SPEC section 4). A track and an identify message
    sharing a messageId are one record: they are the same person either way.
    A view: its one reader, int_records_resolved, runs after the union-find, so the union
    is computed there. As a table it was built, and tested, beside
    int_identifiers_collected, and at 1M persons the two fought for the same two cores
    at the head of the identity chain. Its tests live on int_records_resolved, which has
    exactly its rows. -#}
{{ config(materialized='view') }}

with

messages as (

    select * from {{ ref('stg_segment__messages') }}

),

submissions as (

    select * from {{ ref('stg_hubspot__form_submissions') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

users as (

    select * from {{ ref('stg_zendesk__users') }}

),

tickets as (

    select * from {{ ref('stg_zendesk__tickets') }}

),

message_records as (

    select
        'segment_message' as record_type,
        message_id as record_id,
        min(sent_at) as record_at
    from messages
    group by message_id

),

submission_records as (

    select
        'form_submission' as record_type,
        submission_key as record_id,
        submitted_at as record_at
    from submissions

),

contact_records as (

    select
        'contact' as record_type,
        contact_id as record_id,
        created_at as record_at
    from contacts

),

-- A requester that was never sideloaded still owns its tickets, so it is a record too.
zendesk_user_sightings as (

    select
        user_id,
        updated_at as seen_at
    from users
    union all
    select
        requester_id as user_id,
        created_at as seen_at
    from tickets
    where requester_id is not null

),

zendesk_user_records as (

    select
        'zendesk_user' as record_type,
        cast(user_id as {{ dbt.type_string() }}) as record_id,
        min(seen_at) as record_at
    from zendesk_user_sightings
    group by user_id

),

unioned as (

    select * from message_records
    union all
    select * from submission_records
    union all
    select * from contact_records
    union all
    select * from zendesk_user_records

),

final as (

    select
        record_type,
        record_id,
        record_at,
        {{ record_code('record_type', 'record_id') }} as record_code
    from unioned

)

select * from final
