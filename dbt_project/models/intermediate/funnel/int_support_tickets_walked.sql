{#- One row per conversion that took a ticket in the one-to-one fallback walk (SPEC section 5):
    conversion_id, lead_key, ticket_rank (rank among the lead's available tickets). -#}
{{ funnel_sequential_ticket_match(ref('int_support_ticket_steps_ranked')) }}
