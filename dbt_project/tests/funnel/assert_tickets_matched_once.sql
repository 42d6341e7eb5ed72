-- SPEC section 5: support matching is one-to-one; no ticket serves two conversions.
select
    ticket_id,
    count(distinct conversion_id) as conversions
from {{ ref('int_support_hops_matched') }}
where hop = 'support' and ticket_id is not null
group by ticket_id
having count(distinct conversion_id) > 1
