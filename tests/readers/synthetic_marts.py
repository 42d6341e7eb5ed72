"""A small warehouse with the SPEC section 6 marts and ops tables, built without dbt.

Fast tests of the publish, report and dashboard code use it; the end-to-end tests use a real
pipeline build. Conversions are drawn at random (seeded) and every mart is derived from them in
SQL, so the tables agree with each other the way the real marts do.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from lead_parity.contract import load_contract, write_contract_tables

AS_OF = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)
CHAINS = {
    "demo_request": (["marketing", "crm", "crm_assignment"], 1500.0),
    "contact_sales": (["marketing", "crm", "crm_assignment"], 1000.0),
    "question": (["support", "support_assignment"], 200.0),
}
OWNERS = {
    "marketing": "marketing_ops",
    "crm": "platform",
    "crm_assignment": "sales_ops",
    "support": "platform",
    "support_assignment": "support_ops",
}
HOPS = list(OWNERS)
ORIGINS = ["google_ads", "linkedin", "newsletter", "direct"]
RECORD_CAUSES = ["identity_mismatch", "integration_failure", "silent_drop", "no_trace"]
ASSIGN_CAUSES = ["enrichment_failure", "unassigned", "no_trace"]


def _conversions(n: int, days: int, rng: random.Random) -> pd.DataFrame:
    rows = []
    for i in range(n):
        ctype = rng.choice(list(CHAINS))
        hops, value = CHAINS[ctype]
        converted = AS_OF - timedelta(days=rng.uniform(0.05, days))
        # Ids carry quotes on purpose: nothing may paste them into SQL or HTML unescaped.
        row = {
            "conversion_id": f"m{i}'\"<b>" if i % 17 == 0 else f"m{i:05d}",
            "lead_key": f"L{i // 2:05d}",
            "conversion_type": ctype,
            "event_name": ctype,
            "origin": rng.choice(ORIGINS),
            "converted_at": converted.replace(tzinfo=None),
            "conversion_date": converted.date(),
            "intent_score": rng.randint(0, 100),
            "value_usd": value,
        }
        for hop in HOPS:
            row[f"{hop}_reached_at"] = None
        stalled = None
        age_h = (AS_OF - converted).total_seconds() / 3600
        for hop in hops:
            if rng.random() < 0.06:
                stalled = hop
                break
            row[f"{hop}_reached_at"] = (
                converted + timedelta(minutes=rng.uniform(0.5, 50))
            ).replace(tzinfo=None)
        status = "delivered" if stalled is None else ("dropped" if age_h > 24 else "pending")
        cause = None
        if status == "dropped":
            cause = rng.choice(ASSIGN_CAUSES if stalled.endswith("assignment") else RECORD_CAUSES)
        assigned_at = row[f"{hops[-1]}_reached_at"]
        row.update(
            status=status,
            stalled_at_hop=stalled,
            dropped_at_hop=stalled if status == "dropped" else None,
            root_cause=cause,
            owner=OWNERS[stalled] if status == "dropped" else None,
            late=status == "delivered" and rng.random() < 0.2,
            assignment_reached_at=assigned_at,
            assignment_latency_s=(assigned_at - row["converted_at"]).total_seconds()
            if assigned_at is not None
            else None,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _hop_rows(conv: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for c in conv.itertuples():
        hops, _ = CHAINS[c.conversion_type]
        for order, hop in enumerate(hops, start=1):
            stalled = c.stalled_at_hop if isinstance(c.stalled_at_hop, str) else None
            stalled_order = hops.index(stalled) + 1 if stalled else None
            if stalled_order is None or order < stalled_order:
                outcome = "reached"
            elif order == stalled_order:
                outcome = c.status
            else:
                outcome = "not_arrived"
            rows.append((c.conversion_date, c.conversion_type, c.origin, hop, order, outcome))
    return pd.DataFrame(
        rows,
        columns=["conversion_date", "conversion_type", "origin", "hop", "hop_order", "outcome"],
    )


PARITY_SQL = [
    """
    create table marts.fct_hop_parity_daily as
    with slices as (
        select conversion_date, conversion_type, origin, hop,
            min(hop_order) as hop_order, 'covered' as coverage,
            sum(case when outcome in ('reached', 'dropped') then 1 else 0 end) as expected,
            sum(case when outcome = 'reached' then 1 else 0 end) as reached,
            sum(case when outcome = 'dropped' then 1 else 0 end) as dropped,
            sum(case when outcome = 'pending' then 1 else 0 end) as pending
        from hop_rows group by all
    )
    select *,
        case when expected > 0 then 100.0 * dropped / expected end as discrepancy_pct,
        case when expected >= 30 then 100.0 * dropped / expected >= 1.0 end as slo_breached
    from slices
    """,
    """
    create table marts.fct_hop_parity_daily_totals as
    with totals as (
        select conversion_date, 'all' as conversion_type, 'all' as origin, hop,
            min(hop_order) as hop_order, 'covered' as coverage, sum(expected) as expected,
            sum(reached) as reached, sum(dropped) as dropped, sum(pending) as pending
        from marts.fct_hop_parity_daily group by conversion_date, hop
    )
    select *,
        case when expected > 0 then 100.0 * dropped / expected end as discrepancy_pct,
        case when expected > 0 then 100.0 * dropped / expected >= 1.0 end as slo_breached
    from totals
    """,
]

OTHER_MARTS_SQL = [
    """
    create table marts.fct_conversions as select * from conv
    """,
    """
    create table marts.dim_leads as
    select lead_key, min(converted_at) as first_seen_at, 1 as email_count,
        1 as anonymous_id_count, 'segment,hubspot' as systems_present
    from conv group by lead_key
    """,
    """
    create table marts.rpt_dropped_leads as
    select conversion_id, lead_key, lower(lead_key) || '@example.com' as email, conversion_type,
        origin, converted_at, dropped_at_hop, root_cause, owner, intent_score, value_usd
    from conv where status = 'dropped'
    """,
    """
    create table marts.fct_assignment_latency_daily as
    select conversion_date, conversion_type, origin, count(*) as assigned,
        quantile_cont(assignment_latency_s, 0.5) as median_s,
        quantile_cont(assignment_latency_s, 0.95) as p95_s
    from conv where assignment_latency_s is not null group by all
    """,
    """
    create table marts.fct_assignment_latency_daily_totals as
    select conversion_date, count(*) as conversions, count(assignment_latency_s) as assigned,
        quantile_cont(assignment_latency_s, 0.5) as median_s,
        quantile_cont(assignment_latency_s, 0.95) as p95_s
    from conv group by all
    """,
    """
    create table marts.fct_dead_letters_daily as
    select cast(converted_at as date) as date, dropped_at_hop as hop, count(*) as dead_lettered,
        count(*) filter (where hash(conversion_id) % 3 = 0) as replayed,
        100.0 * count(*) filter (where hash(conversion_id) % 3 = 0) / count(*)
            as replay_success_pct
    from conv where root_cause = 'integration_failure' group by all
    """,
    """
    create table ops.quarantined_records as
    select 'segment' as source, 'segment/day1.jsonl' as file, 3 as position,
        'messages' as entity, 'not JSON' as reason, '{oops' as raw
    """,
    """
    create table ops.ingestion_ledger as
    select 'segment' as source, 'segment/day1.jsonl' as file, 100 as records_read,
        98 as records_loaded, 1 as records_quarantined, 1 as duplicates
    """,
    """
    create table ops.slo_evaluations as
    select timestamp '2026-10-12 10:00:00' as evaluated_at, 'parity' as rule,
        cast(conversion_date as varchar) || '|' || hop || '|all|all' as scope, conversion_date,
        null::varchar as conversion_type, null::varchar as origin, hop,
        coalesce(discrepancy_pct, 0) as observed, 1.0 as threshold,
        not coalesce(slo_breached, false) as passed,
        case when discrepancy_pct >= 5 then 'critical' when slo_breached then 'warning'
            else 'ok' end as severity,
        expected, dropped, null::varchar as details
    from marts.fct_hop_parity_daily_totals
    """,
    """
    create table ops.incidents as
    select md5(scope) as incident_id, 'parity|' || scope as dedup_key, rule, severity,
        conversion_date, conversion_type, origin, hop,
        timestamp '2026-10-12 10:00:00' as opened_at,
        case when conversion_date < date '2026-10-01' then timestamp '2026-10-12 10:00:00' end
            as resolved_at,
        expected, dropped, observed as discrepancy_pct, observed, threshold,
        ['m00001', 'm00002'] as sample_conversion_ids,
        case when hop like 'support%' then 'support_ops' else 'sales_ops' end as owner,
        'dropped leads support triage infrastructure problem' as tags,
        null::varchar as run_url, 'Check the integration logs' as advice
    from ops.slo_evaluations where not passed
    """,
]


# Section 9 tables (the error budget, the review queue): only where a test reads them, since the
# publish asset observes every mart it finds.
OPERATING_SQL = [
    """
    create table marts.fct_parity_budget_daily as
    with final_days as (
        select conversion_date as budget_date, hop, cast(expected as bigint) as expected,
            cast(dropped as bigint) as dropped
        from marts.fct_hop_parity_daily_totals where pending = 0
    ),
    windowed as (
        select *, cast(sum(expected) over w3 as bigint) as expected_3d,
            cast(sum(dropped) over w3 as bigint) as dropped_3d,
            cast(sum(expected) over w28 as bigint) as expected_28d,
            cast(sum(dropped) over w28 as bigint) as dropped_28d
        from final_days
        window
            w3 as (partition by hop order by budget_date
                range between interval 2 days preceding and current row),
            w28 as (partition by hop order by budget_date
                range between interval 27 days preceding and current row)
    ),
    rated as (
        select *,
            case when expected > 0 then dropped / expected / 0.01 end as burn_rate_1d,
            case when expected_3d > 0 then dropped_3d / expected_3d / 0.01 end as burn_rate_3d,
            case when expected_28d > 0 then dropped_28d / expected_28d / 0.01 end
                as burn_rate_28d
        from windowed
    )
    select budget_date, hop, expected, dropped, expected_3d, dropped_3d, expected_28d,
        dropped_28d, 0.01 * expected_28d as error_budget,
        0.01 * expected_28d - dropped_28d as budget_remaining,
        case when expected_28d > 0 then 100 * (1 - dropped_28d / (0.01 * expected_28d)) end
            as budget_remaining_pct,
        burn_rate_1d, burn_rate_3d, burn_rate_28d,
        case when burn_rate_1d >= 14.4 then 'page'
            when burn_rate_3d >= 2 and burn_rate_1d >= 1 then 'ticket' end as burn_alert,
        expected_28d > 0 and dropped_28d >= 0.01 * expected_28d as is_budget_exhausted
    from rated
    """,
    """
    create table ops.review_queue as
    select 'rq_' || left(md5(conversion_id), 10) as item_id,
        'high_intent_unassigned' as kind, conversion_id,
        converted_at + interval 2 hours as opened_at,
        converted_at + interval 150 minutes as due_at,
        case hash(conversion_id) % 3 when 0 then 'done' when 1 then 'claimed' else 'open' end
            as state,
        case when hash(conversion_id) % 3 = 1 then 'alice' end as claimed_by,
        case when hash(conversion_id) % 3 = 0 then 'handled' end as resolution,
        null::timestamp as escalated_at, owner, 'cro' as escalation_owner,
        dropped_at_hop as hop, conversion_type, origin, cast(intent_score as double)
            as intent_score,
        'no owner 2 h after converting' as evidence, null::timestamp as claimed_at,
        null::timestamp as closed_at, null::varchar as closed_by, null::varchar as note,
        timestamp '2026-10-12 10:00:00' as first_seen_at, 'message' as notified
    from conv
    where status = 'dropped' and dropped_at_hop like '%assignment' and intent_score >= 80
    """,
]


def build_synthetic_warehouse(
    path: Path, *, conversions: int = 1500, days: int = 30, seed: int = 7, operating: bool = False
) -> pd.DataFrame:
    """Write a warehouse DuckDB file with schemas marts and ops; returns the conversions frame.
    `operating` adds marts.fct_parity_budget_daily and ops.review_queue."""
    rng = random.Random(seed)
    conv = _conversions(conversions, days, rng)
    hop_rows = _hop_rows(conv)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a rebuild replaces the warehouse, as a fresh dbt build would
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists ops")
        con.register("conv", conv)
        con.register("hop_rows", hop_rows)
        for sql in [*PARITY_SQL, *OTHER_MARTS_SQL, *(OPERATING_SQL if operating else [])]:
            con.execute(sql)
        # A staging view outside the published schemas: it must not be published.
        con.execute("create view main.stg_example as select 1 as x")
    finally:
        con.close()
    # Beside the warehouse, as the pipeline lands it: the publish copies it as schema contract.
    write_contract_tables(load_contract(None), path.parent / "landed" / "_contract", AS_OF)
    return conv
