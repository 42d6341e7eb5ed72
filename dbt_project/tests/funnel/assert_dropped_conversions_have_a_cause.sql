-- A dropped conversion names its hop and root cause; any other status names neither.
select *
from {{ ref('fct_conversions') }}
where
    (status = 'dropped' and (dropped_at_hop is null or root_cause is null or owner is null))
    or (status <> 'dropped' and (dropped_at_hop is not null or root_cause is not null))
