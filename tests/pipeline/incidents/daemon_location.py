"""A small code location for the daemon test: marts with a breach, their SLO evaluation, and
the project's real `incidents` asset, outbox sensor (ticking every second) and the delivery job
it launches."""

import dagster as dg

from orchestration.defs.incidents.assets import build_incidents_asset
from orchestration.defs.incidents.sensors import build_incident_outbox_sensor
from orchestration.defs.resources import LeadParityConfig, lead_parity_config


@dg.asset(key="rpt_dropped_leads", group_name="marts")
def rpt_dropped_leads(lead_parity: LeadParityConfig) -> None:
    import duckdb

    con = duckdb.connect(str(lead_parity.paths().warehouse))
    try:
        con.execute("create schema if not exists marts")
        con.execute("""
            create or replace table marts.rpt_dropped_leads as
            select 'd' || i as conversion_id, 'L' || i as lead_key, 'x@y.z' as email,
                   'demo_request' as conversion_type, 'google_ads' as origin,
                   timestamp '2026-10-10 09:00:00' + i * interval 1 minute as converted_at,
                   'crm' as dropped_at_hop, 'no_trace' as root_cause, 'platform' as owner,
                   90 as intent_score, 1500.0 as value_usd
            from range(12) t(i)""")
    finally:
        con.close()


@dg.asset(key="fct_hop_parity_daily", group_name="marts")
def fct_hop_parity_daily(lead_parity: LeadParityConfig) -> None:
    import duckdb

    con = duckdb.connect(str(lead_parity.paths().warehouse))
    try:
        con.execute("create schema if not exists marts")
        con.execute("""
            create or replace table marts.fct_hop_parity_daily as
            select date '2026-10-10' as conversion_date, 'all' as conversion_type,
                   'all' as origin, 'crm' as hop, 400 as expected, 360 as reached,
                   40 as dropped, 0 as pending, 10.0 as discrepancy_pct, true as slo_breached""")
    finally:
        con.close()


@dg.asset(key="slo_evaluations", deps=["fct_hop_parity_daily"], group_name="quality")
def slo_evaluations(lead_parity: LeadParityConfig) -> None:
    import duckdb

    threshold = lead_parity.contract().slo.parity_discrepancy_pct
    con = duckdb.connect(str(lead_parity.paths().warehouse))
    try:
        con.execute("create schema if not exists ops")
        con.execute(
            """
            create or replace table ops.slo_evaluations as
            select timestamp '2026-10-12 10:00:00' as evaluated_at, 'parity' as rule,
                   conversion_date || '|' || hop || '|all|all' as scope, conversion_date,
                   conversion_type, origin, hop, discrepancy_pct as observed,
                   ?::double as threshold, discrepancy_pct < ? as passed,
                   'warning' as severity, expected::bigint as expected,
                   dropped::bigint as dropped, null::varchar as details
            from marts.fct_hop_parity_daily""",
            [threshold, threshold],
        )
    finally:
        con.close()


incidents = build_incidents_asset()

defs = dg.Definitions(
    assets=[rpt_dropped_leads, fct_hop_parity_daily, slo_evaluations, incidents],
    sensors=[build_incident_outbox_sensor(minimum_interval_seconds=1)],
    resources={"lead_parity": lead_parity_config},
    executor=dg.in_process_executor,
)
