{#- The source folders of SPEC section 2; each one lands _quarantine, _ledger and _manifest. -#}
{% macro landed_sources() -%}
    {{ return(['segment', 'hubspot_forms', 'hubspot_contacts', 'zendesk_tickets', 'zendesk_users', 'receipts']) }}
{%- endmacro %}
