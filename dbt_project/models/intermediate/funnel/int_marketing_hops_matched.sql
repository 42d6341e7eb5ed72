{#- Marketing hop (SPEC section 5): a form submission of the conversion's lead within
    [c - W, c + W]; reached at the earliest such submission. One row per conversion whose
    chain has the hop, reached or not. -#}
with

conversion_hops as (

    select * from {{ ref('int_conversion_hops_expanded') }}

),

form_submissions as (

    select * from {{ ref('int_form_submissions_attributed') }}

),

final as (

    select
        conversion_hops.conversion_id,
        conversion_hops.hop,
        min(conversion_hops.hop_order) as hop_order,
        min(conversion_hops.sla_deadline_at) as sla_deadline_at,
        max(case when conversion_hops.is_assignment_hop then 1 else 0 end) = 1
            as is_assignment_hop,
        min(form_submissions.submitted_at) as reached_at,
        count(form_submissions.submission_key) > 0 as has_record
    from conversion_hops
    left join form_submissions
        on
            conversion_hops.lead_key = form_submissions.lead_key
            and conversion_hops.window_start_at <= form_submissions.submitted_at
            and conversion_hops.window_end_at >= form_submissions.submitted_at
    where conversion_hops.hop = 'marketing'
    group by
        conversion_hops.conversion_id,
        conversion_hops.hop

)

select * from final
