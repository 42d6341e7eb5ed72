-- SPEC section 6: no raw email in any mart but rpt_dropped_leads (`emails` in dim_leads is a count).
-- depends_on: {{ ref('fct_conversions') }}
-- depends_on: {{ ref('fct_hop_parity_daily') }}
-- depends_on: {{ ref('fct_assignment_latency_daily') }}
-- depends_on: {{ ref('fct_dead_letters_daily') }}
-- depends_on: {{ ref('dim_leads') }}
select
    table_name,
    column_name
from information_schema.columns
where
    table_schema = 'marts'
    and table_name <> 'rpt_dropped_leads'
    and lower(column_name) like '%email%'
    and lower(column_name) not in ('emails')
