{#- The identifiers each record carries (SPEC section 4) and the two guards against black-hole
    merges: role-account emails and shared-device anonymousIds stay on the record but link
    nothing. Built as one pass of `union all` without de-duplication: this model feeds a graph
    of millions of links, and every consumer groups anyway. Records and identifiers travel as
    integer codes (macros/cross_db/hash_code.sql): at 1M persons writing the record's type and
    id strings beside them cost a third of this model's time, and nothing downstream needs them. -#}
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

role_accounts as (

    select * from {{ ref('stg_contract__role_accounts') }}

),

settings as (

    select * from {{ ref('stg_contract__settings') }}

),

-- One scan per source: each row is crossed with the identifier kinds it can carry.
message_kinds as (

    select kinds.identifier_type from (
        values ('anonymous_id'), ('user_id'), ('email'), ('lead_id')
    ) as kinds (identifier_type)

),

message_identifiers as (

    select
        messages.message_id as record_id,
        message_kinds.identifier_type,
        case message_kinds.identifier_type
            when 'anonymous_id' then messages.anonymous_id
            when 'user_id' then messages.user_id
            when 'email' then messages.email
            else messages.lead_id
        end as identifier_value,
        messages.sent_at as seen_at
    from messages
    cross join message_kinds

),

submission_kinds as (

    select kinds.identifier_type from (
        values ('email'), ('lead_id'), ('anonymous_id')
    ) as kinds (identifier_type)

),

submission_identifiers as (

    select
        submissions.submission_key as record_id,
        submission_kinds.identifier_type,
        case submission_kinds.identifier_type
            when 'email' then submissions.email
            when 'lead_id' then submissions.lead_id
            else submissions.anonymous_id
        end as identifier_value,
        submissions.submitted_at as seen_at
    from submissions
    cross join submission_kinds

),

additional_email_parts as (

    select
        contact_id,
        created_at,
        {{ split_to_rows('additional_emails', ';') }} as email_part
    from contacts
    where additional_emails is not null

),

contact_kinds as (

    select kinds.identifier_type from (
        values ('hubspot_contact'), ('email'), ('lead_id')
    ) as kinds (identifier_type)

),

contact_identifiers as (

    select
        contacts.contact_id as record_id,
        contact_kinds.identifier_type,
        case contact_kinds.identifier_type
            when 'hubspot_contact' then contacts.contact_id
            when 'email' then contacts.email
            else contacts.lead_id
        end as identifier_value,
        contacts.created_at as seen_at
    from contacts
    cross join contact_kinds
    union all
    select
        contact_id as record_id,
        'email' as identifier_type,
        -- Ingestion normalizes the whole list; its parts still carry the spaces around ';'.
        lower(trim(email_part)) as identifier_value,
        created_at as seen_at
    from additional_email_parts
    where trim(email_part) != ''

),

zendesk_user_identifiers as (

    select
        cast(user_id as {{ dbt.type_string() }}) as record_id,
        'zendesk_user' as identifier_type,
        cast(user_id as {{ dbt.type_string() }}) as identifier_value,
        updated_at as seen_at
    from users
    union all
    select
        cast(requester_id as {{ dbt.type_string() }}) as record_id,
        'zendesk_user' as identifier_type,
        cast(requester_id as {{ dbt.type_string() }}) as identifier_value,
        created_at as seen_at
    from tickets
    where requester_id is not null
    union all
    select
        cast(user_id as {{ dbt.type_string() }}) as record_id,
        'email' as identifier_type,
        email as identifier_value,
        updated_at as seen_at
    from users
    where email is not null

),

occurrences as (

    select
        'segment_message' as record_type,
        record_id,
        identifier_type,
        identifier_value,
        seen_at
    from message_identifiers
    union all
    select
        'form_submission' as record_type,
        record_id,
        identifier_type,
        identifier_value,
        seen_at
    from submission_identifiers
    union all
    select
        'contact' as record_type,
        record_id,
        identifier_type,
        identifier_value,
        seen_at
    from contact_identifiers
    union all
    select
        'zendesk_user' as record_type,
        record_id,
        identifier_type,
        identifier_value,
        seen_at
    from zendesk_user_identifiers

),

-- Guard keys as plain columns, so both guard lookups are equi-joins (hash joins at volume).
present_occurrences as (

    select
        *,
        case
            when identifier_type = 'email'
                then {{ dbt.split_part('identifier_value', "'@'", 1) }}
        end as email_local_part,
        case when identifier_type = 'anonymous_id' then identifier_value end as device_id
    from occurrences
    where identifier_value is not null

),

-- Only Segment messages and form submissions carry an anonymousId next to an email.
device_emails as (

    select
        anonymous_id,
        email
    from messages
    where anonymous_id is not null and email is not null
    union
    select
        anonymous_id,
        email
    from submissions
    where anonymous_id is not null and email is not null

),

shared_devices as (

    select device_emails.anonymous_id
    from device_emails
    group by device_emails.anonymous_id
    having count(*) >= (select max(settings.shared_device_emails) from settings)

),

final as (

    select
        {{ record_code('occurrences.record_type', 'occurrences.record_id') }} as record_code,
        occurrences.identifier_type,
        occurrences.identifier_value,
        {{ identifier_code('occurrences.identifier_type', 'occurrences.identifier_value') }}
            as identifier_code,
        occurrences.seen_at,
        (
            role_accounts.local_part is not null
            or shared_devices.anonymous_id is not null
        ) as is_guarded
    from present_occurrences as occurrences
    left join role_accounts
        on occurrences.email_local_part = role_accounts.local_part
    left join shared_devices
        on occurrences.device_id = shared_devices.anonymous_id

)

select * from final
