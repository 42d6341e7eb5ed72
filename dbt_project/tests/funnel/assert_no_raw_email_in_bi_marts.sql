-- SPEC section 6: no raw email in any mart but rpt_dropped_leads. The allow-list names figures,
-- not addresses: `emails` (dim_leads) and capture compliance's `with_email` / `email_pct`.
-- Columns come from the adapter (not information_schema, which Spark lacks); one row per offender.
-- depends_on: {{ ref('fct_conversions') }}
-- depends_on: {{ ref('fct_hop_parity_daily') }}
-- depends_on: {{ ref('fct_hop_parity_daily_totals') }}
-- depends_on: {{ ref('fct_assignment_latency_daily') }}
-- depends_on: {{ ref('fct_assignment_latency_daily_totals') }}
-- depends_on: {{ ref('fct_dead_letters_daily') }}
-- depends_on: {{ ref('dim_leads') }}
-- depends_on: {{ ref('fct_capture_compliance_daily') }}
{%- set offenders = [] -%}
{%- set figures = ['emails', 'with_email', 'email_pct'] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.schema == 'marts'
        and node.name != 'rpt_dropped_leads' -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
        {%- for column in (adapter.get_columns_in_relation(relation) if relation else []) -%}
            {%- if 'email' in column.name | lower and column.name | lower not in figures -%}
                {%- do offenders.append((node.name, column.name)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}
{% for table_name, column_name in offenders %}
    select
        '{{ table_name }}' as table_name,
        '{{ column_name }}' as column_name
    {% if not loop.last %}union all{% endif %}
{% else %}
    select
        'none' as table_name,
        'none' as column_name
    where 1 = 0
{% endfor %}
