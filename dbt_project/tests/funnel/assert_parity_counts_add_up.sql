-- Every conversion that arrives at a hop is reached, dropped, pending or unknown there, and
-- expected is exactly reached + dropped.
select *
from {{ ref('fct_hop_parity_daily') }}
where
    expected <> reached + dropped
    or (coverage = 'unknown' and (expected <> 0 or dropped <> 0))
