{#- Keys the identity_mismatch rule (SPEC section 5) compares across leads. -#}

{#- "first last", trimmed and lower-cased; null unless both parts are present, because a lone
    first name is too weak to call two records one person. -#}
{% macro funnel_name_key(first_name, last_name) -%}
    case
        when nullif(trim({{ first_name }}), '') is not null
            and nullif(trim({{ last_name }}), '') is not null
            then {{ dbt.concat(["lower(trim(" ~ first_name ~ "))", "' '", "lower(trim(" ~ last_name ~ "))"]) }}
    end
{%- endmacro %}

{#- A Zendesk user has one `name` field, spelled first + " " + last. -#}
{% macro funnel_full_name_key(full_name) -%}
    nullif(lower(trim({{ full_name }})), '')
{%- endmacro %}

{% macro funnel_company_key(company) -%}
    nullif(lower(trim({{ company }})), '')
{%- endmacro %}

{% macro funnel_email_domain(email) -%}
    nullif(lower(trim({{ dbt.split_part(email, "'@'", 2) }})), '')
{%- endmacro %}
