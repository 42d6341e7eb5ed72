"""The figures the report and the dashboard show, read from the published snapshot.

Every function takes an open (read-only) connection to the snapshot's DuckDB copy and a `since`
date, and returns a DataFrame; a table missing from the snapshot gives an empty frame with the
same columns, so a stack without (say) incidents still renders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

DEFAULT_HOP_ORDER = ["marketing", "crm", "crm_assignment", "support", "support_assignment"]
HOP_SYSTEMS = {
    "marketing": "HubSpot form",
    "crm": "HubSpot contact",
    "crm_assignment": "HubSpot owner",
    "support": "Zendesk ticket",
    "support_assignment": "Zendesk assignee",
}
DEFAULT_THRESHOLDS = {
    "parity_discrepancy_pct": 1.0,
    "critical_discrepancy_pct": 5.0,
    "median_assignment_latency_s": 300.0,
    "high_intent_score": 80.0,
}


@dataclass(frozen=True)
class Period:
    as_of: datetime
    since: date
    days: int


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    return {f"{schema}.{name}" for schema, name in rows}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return {r[0] for r in rows}


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table in _tables(con)


def _frame(con, table: str, sql: str, params: list, columns: list[str]) -> pd.DataFrame:
    if not has_table(con, table):
        return pd.DataFrame(columns=columns)
    return con.execute(sql, params).df()


def thresholds(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """SLO thresholds of the run (contract settings), else the contract defaults."""
    values = dict(DEFAULT_THRESHOLDS)
    if has_table(con, "contract.settings"):
        cols = _columns(con, "contract.settings")
        wanted = [k for k in values if k in cols]
        if wanted:
            row = con.execute(f"select {', '.join(wanted)} from contract.settings").fetchone()
            for key, value in zip(wanted, row or (), strict=False):
                if value is not None:
                    values[key] = float(value)
    return values


def period(con: duckdb.DuckDBPyConnection, days: int = 30) -> Period:
    """The run's as_of (contract settings, else the newest conversion) and the window start."""
    as_of = None
    if has_table(con, "contract.settings") and "as_of" in _columns(con, "contract.settings"):
        as_of = con.execute("select max(as_of) from contract.settings").fetchone()[0]
    if as_of is None and has_table(con, "marts.fct_conversions"):
        as_of = con.execute("select max(converted_at) from marts.fct_conversions").fetchone()[0]
    if as_of is None:
        as_of = datetime(1970, 1, 1)
    if isinstance(as_of, date) and not isinstance(as_of, datetime):
        as_of = datetime.combine(as_of, datetime.min.time())
    as_of = as_of.replace(tzinfo=None)
    return Period(as_of=as_of, since=(as_of - timedelta(days=days)).date(), days=days)


def hop_order(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Hops in chain order, from the published contract when present."""
    if has_table(con, "contract.conversion_hops"):
        rows = con.execute(
            # Rows are in contract order (chain by chain): first appearance gives the order.
            "select hop from contract.conversion_hops group by hop order by min(rowid)"
        ).fetchall()
        if rows:
            return [r[0] for r in rows]
    return list(DEFAULT_HOP_ORDER)


def hops_in_order(order: list[str], seen: Iterable[str]) -> list[str]:
    """The hops of `seen` in `order` (hop_order's), then any hop it does not name, sorted."""
    seen = set(seen)
    return [h for h in order if h in seen] + sorted(seen - set(order))


def hop_owners(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if has_table(con, "contract.hops"):
        return dict(con.execute("select hop, owner from contract.hops").fetchall())
    return {}


def headline(con: duckdb.DuckDBPyConnection, since: date) -> dict[str, float]:
    """Conversions by status, dropped value and the share of conversions that were dropped."""
    figures = {"conversions": 0, "delivered": 0, "pending": 0, "dropped": 0, "late": 0}
    if has_table(con, "marts.fct_conversions"):
        rows = con.execute(
            "select status, count(*) from marts.fct_conversions "
            "where cast(converted_at as date) >= ? group by status",
            [since],
        ).fetchall()
        for status, count in rows:
            figures[status] = figures.get(status, 0) + count
            figures["conversions"] += count
        figures["late"] = con.execute(
            "select count(*) from marts.fct_conversions "
            "where cast(converted_at as date) >= ? and coalesce(late, false)",
            [since],
        ).fetchone()[0]
    judged = figures["conversions"] - figures["pending"]
    figures["dropped_pct"] = 100.0 * figures["dropped"] / judged if judged else 0.0
    figures["revenue_at_risk"] = float(revenue_at_risk(con, since)["value_usd"].sum())
    return figures


def funnel(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """Per conversion type and hop over the window: expected, reached, dropped, pending."""
    columns = ["conversion_type", "hop", "hop_order", "expected", "reached", "dropped", "pending"]
    if not has_table(con, "marts.fct_hop_parity_daily"):
        return pd.DataFrame(columns=columns)
    has_order = "hop_order" in _columns(con, "marts.fct_hop_parity_daily")
    order_col = "min(hop_order)" if has_order else "0"
    frame = con.execute(
        f"""
        select conversion_type, hop, {order_col} as hop_order,
            sum(expected) as expected, sum(reached) as reached,
            sum(dropped) as dropped, sum(pending) as pending
        from marts.fct_hop_parity_daily
        where conversion_date >= ?
        group by conversion_type, hop
        """,
        [since],
    ).df()
    return _sort_hops(frame, hop_order(con), ["conversion_type"])


def _sort_hops(frame: pd.DataFrame, order: list[str], first: list[str]) -> pd.DataFrame:
    rank = {hop: i for i, hop in enumerate(order)}
    frame = frame.assign(_rank=frame["hop"].map(lambda h: rank.get(h, len(rank))))
    return frame.sort_values([*first, "_rank", "hop"]).drop(columns="_rank").reset_index(drop=True)


def daily_parity(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """Per day and hop (all types and origins): expected, dropped, discrepancy_pct."""
    columns = ["conversion_date", "hop", "expected", "dropped", "discrepancy_pct"]
    if not has_table(con, "marts.fct_hop_parity_daily_totals"):
        return pd.DataFrame(columns=columns)
    return con.execute(
        """
        select conversion_date, hop, expected, dropped, discrepancy_pct
        from marts.fct_hop_parity_daily_totals
        where conversion_date >= ?
        order by conversion_date, hop
        """,
        [since],
    ).df()


def parity_by_campaign(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """Per hop and origin (campaign source) over the window: expected, dropped, discrepancy."""
    columns = ["hop", "origin", "expected", "dropped", "discrepancy_pct"]
    if not has_table(con, "marts.fct_hop_parity_daily"):
        return pd.DataFrame(columns=columns)
    frame = con.execute(
        """
        select hop, origin, sum(expected) as expected, sum(dropped) as dropped,
            case when sum(expected) > 0 then 100.0 * sum(dropped) / sum(expected) end
                as discrepancy_pct
        from marts.fct_hop_parity_daily
        where conversion_date >= ?
        group by hop, origin
        """,
        [since],
    ).df()
    return _sort_hops(frame, hop_order(con), []).sort_values(
        ["discrepancy_pct"], ascending=False, kind="stable", na_position="last"
    )


def latency_daily(
    con: duckdb.DuckDBPyConnection, since: date, *, by_type: bool = True
) -> pd.DataFrame:
    """Per day (and conversion type): assigned, median and P95 minutes to an owner.

    The day totals are fct_assignment_latency_daily_totals; per type they come from
    fct_conversions, as quantiles of the (type, origin) slices cannot be combined.
    """
    columns = ["conversion_date", "conversion_type", "assigned", "median_min", "p95_min"]
    totals = "marts.fct_assignment_latency_daily_totals"
    if not by_type and has_table(con, totals):
        return con.execute(
            f"""
            select conversion_date, 'all' as conversion_type, assigned,
                median_s / 60.0 as median_min, p95_s / 60.0 as p95_min
            from {totals}
            where assigned > 0 and conversion_date >= ?
            order by conversion_date
            """,
            [since],
        ).df()[columns]
    ctype = "conversion_type" if by_type else "'all'"
    return _frame(
        con,
        "marts.fct_conversions",
        f"""
        select cast(converted_at as date) as conversion_date, {ctype} as conversion_type,
            count(*) as assigned,
            quantile_cont(assignment_latency_s, 0.5) / 60.0 as median_min,
            quantile_cont(assignment_latency_s, 0.95) / 60.0 as p95_min
        from marts.fct_conversions
        where assignment_latency_s is not null and cast(converted_at as date) >= ?
        group by all
        order by conversion_date, conversion_type
        """,
        [since],
        columns,
    )


def latency_summary(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    columns = ["conversion_type", "assigned", "median_min", "p95_min"]
    return _frame(
        con,
        "marts.fct_conversions",
        """
        select conversion_type, count(*) as assigned,
            quantile_cont(assignment_latency_s, 0.5) / 60.0 as median_min,
            quantile_cont(assignment_latency_s, 0.95) / 60.0 as p95_min
        from marts.fct_conversions
        where assignment_latency_s is not null and cast(converted_at as date) >= ?
        group by conversion_type
        order by conversion_type
        """,
        [since],
        columns,
    )


def causes_daily(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """Dropped conversions per conversion day and root cause."""
    columns = ["conversion_date", "root_cause", "dropped", "value_usd"]
    return _frame(
        con,
        "marts.rpt_dropped_leads",
        """
        select cast(converted_at as date) as conversion_date,
            coalesce(root_cause, 'unknown') as root_cause,
            count(*) as dropped, sum(coalesce(value_usd, 0)) as value_usd
        from marts.rpt_dropped_leads
        where cast(converted_at as date) >= ?
        group by all
        order by conversion_date, root_cause
        """,
        [since],
        columns,
    )


def top_causes(con: duckdb.DuckDBPyConnection, since: date, samples: int = 5) -> pd.DataFrame:
    """(hop, root cause) groups ranked by value at risk, with owner, top origin and sample ids."""
    columns = [
        "dropped_at_hop", "root_cause", "owner", "dropped", "value_usd", "high_intent",
        "top_origin", "sample_ids",
    ]  # fmt: skip
    high_intent = thresholds(con)["high_intent_score"]
    return _frame(
        con,
        "marts.rpt_dropped_leads",
        """
        with dropped as (
            select *, coalesce(root_cause, 'unknown') as cause
            from marts.rpt_dropped_leads
            where cast(converted_at as date) >= ?
        ),
        origins as (
            select dropped_at_hop, cause, origin, count(*) as n
            from dropped group by all
        ),
        top_origin as (
            select dropped_at_hop, cause, arg_max(origin, n) as top_origin
            from origins group by all
        )
        select d.dropped_at_hop, d.cause as root_cause, any_value(d.owner) as owner,
            count(*) as dropped, sum(coalesce(d.value_usd, 0)) as value_usd,
            count(*) filter (where d.intent_score >= ?) as high_intent,
            any_value(t.top_origin) as top_origin,
            list(d.conversion_id order by d.intent_score desc nulls last, d.converted_at,
                d.conversion_id)[1:?] as sample_ids
        from dropped as d
        left join top_origin as t
            on d.dropped_at_hop is not distinct from t.dropped_at_hop and d.cause = t.cause
        group by d.dropped_at_hop, d.cause
        order by value_usd desc, dropped desc, d.dropped_at_hop, d.cause
        """,
        [since, high_intent, samples],
        columns,
    )


def revenue_at_risk(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """Value of dropped conversions per hop, root cause and origin."""
    columns = ["dropped_at_hop", "root_cause", "origin", "dropped", "value_usd"]
    return _frame(
        con,
        "marts.rpt_dropped_leads",
        """
        select dropped_at_hop, coalesce(root_cause, 'unknown') as root_cause, origin,
            count(*) as dropped, sum(coalesce(value_usd, 0)) as value_usd
        from marts.rpt_dropped_leads
        where cast(converted_at as date) >= ?
        group by all
        order by value_usd desc, dropped_at_hop, root_cause, origin
        """,
        [since],
        columns,
    )


def dead_letters_daily(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    columns = ["date", "hop", "dead_lettered", "replayed", "replay_success_pct"]
    return _frame(
        con,
        "marts.fct_dead_letters_daily",
        """
        select "date", hop, sum(dead_lettered) as dead_lettered, sum(replayed) as replayed,
            case when sum(dead_lettered) > 0 then 100.0 * sum(replayed) / sum(dead_lettered) end
                as replay_success_pct
        from marts.fct_dead_letters_daily
        where "date" >= ?
        group by all
        order by "date", hop
        """,
        [since],
        columns,
    )


def dead_letters_summary(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    columns = ["hop", "dead_lettered", "replayed", "replay_success_pct"]
    frame = _frame(
        con,
        "marts.fct_dead_letters_daily",
        """
        select hop, sum(dead_lettered) as dead_lettered, sum(replayed) as replayed,
            case when sum(dead_lettered) > 0 then 100.0 * sum(replayed) / sum(dead_lettered) end
                as replay_success_pct
        from marts.fct_dead_letters_daily
        where "date" >= ?
        group by hop
        """,
        [since],
        columns,
    )
    return _sort_hops(frame, hop_order(con), []) if len(frame) else frame


DROPPED_COLUMNS = [
    "conversion_id", "lead_key", "email", "conversion_type", "origin", "converted_at",
    "dropped_at_hop", "root_cause", "owner", "intent_score", "value_usd",
]  # fmt: skip


def dropped_leads(
    con: duckdb.DuckDBPyConnection,
    since: date,
    *,
    hops: list[str] | None = None,
    causes: list[str] | None = None,
    origins: list[str] | None = None,
    owners: list[str] | None = None,
    min_intent: float | None = None,
) -> pd.DataFrame:
    """The dropped-leads work list; every filter is a bound parameter, empty means all."""
    if not has_table(con, "marts.rpt_dropped_leads"):
        return pd.DataFrame(columns=DROPPED_COLUMNS)
    present = _columns(con, "marts.rpt_dropped_leads")
    select = ", ".join(c if c in present else f"null as {c}" for c in DROPPED_COLUMNS)
    where, params = ["cast(converted_at as date) >= ?"], [since]
    for column, values in (
        ("dropped_at_hop", hops),
        ("root_cause", causes),
        ("origin", origins),
        ("owner", owners),
    ):
        if values:
            where.append(f"list_contains(?, {column})")
            params.append(list(values))
    if min_intent is not None and min_intent > 0:
        where.append("intent_score >= ?")
        params.append(min_intent)
    return con.execute(
        f"select {select} from marts.rpt_dropped_leads where {' and '.join(where)} "
        "order by converted_at desc, conversion_id",
        params,
    ).df()


def distinct_values(con: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    """Filter choices for one column of the dropped-leads list."""
    if column not in {"dropped_at_hop", "root_cause", "origin", "owner"}:
        raise ValueError(f"not a filter column: {column}")
    if not has_table(con, "marts.rpt_dropped_leads"):
        return []
    rows = con.execute(
        f"select distinct {column} from marts.rpt_dropped_leads "
        f"where {column} is not null order by 1"
    ).fetchall()
    return [r[0] for r in rows]


INCIDENT_COLUMNS = [
    "incident_id", "rule", "severity", "conversion_date", "conversion_type", "origin", "hop",
    "opened_at", "expected", "dropped", "discrepancy_pct", "owner", "advice",
]  # fmt: skip


def open_incidents(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Incidents not yet resolved, most severe and newest first."""
    if not has_table(con, "ops.incidents"):
        return pd.DataFrame(columns=INCIDENT_COLUMNS)
    present = _columns(con, "ops.incidents")
    select = ", ".join(c if c in present else f"null as {c}" for c in INCIDENT_COLUMNS)
    resolved = "resolved_at is null" if "resolved_at" in present else "true"
    return con.execute(
        f"""
        select {select} from ops.incidents where {resolved}
        order by case severity when 'critical' then 0 when 'warning' then 1 else 2 end,
            opened_at desc, incident_id
        """
    ).df()


# ---- the playbook's telemetry (docs/telemetry.md) -------------------------------------------


def capture_compliance(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """Per origin over the period: conversions and the shares carrying each identifier."""
    columns = ["origin", "conversions", "lead_id_pct", "stable_lead_id_pct", "origin_tag_pct",
               "email_pct"]  # fmt: skip
    return _frame(
        con,
        "marts.fct_capture_compliance_daily",
        """
        select origin, sum(conversions) as conversions,
            100.0 * sum(with_lead_id) / sum(conversions) as lead_id_pct,
            100.0 * sum(with_stable_lead_id) / sum(conversions) as stable_lead_id_pct,
            100.0 * sum(with_origin_tag) / sum(conversions) as origin_tag_pct,
            100.0 * sum(with_email) / sum(conversions) as email_pct
        from marts.fct_capture_compliance_daily
        where conversion_date >= ?
        group by origin
        order by conversions desc, origin
        """,
        [since],
        columns,
    )


def delivery_receipts(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """Per hop and destination over the period: attempts, outcomes, replays, retries."""
    columns = ["hop", "destination", "attempts", "delivered", "failed_4xx", "rate_limited",
               "failed_5xx", "timeouts", "dead_lettered", "replay_success_pct",
               "retries_per_delivered"]  # fmt: skip
    return _frame(
        con,
        "marts.fct_delivery_receipts_daily",
        """
        select hop, destination, sum(attempts) as attempts, sum(delivered) as delivered,
            sum(failed_4xx) as failed_4xx, sum(rate_limited) as rate_limited,
            sum(failed_5xx) as failed_5xx, sum(timeouts) as timeouts,
            sum(dead_lettered) as dead_lettered,
            case when sum(dead_lettered_first) > 0
                then 100.0 * sum(replayed_later) / sum(dead_lettered_first) end
                as replay_success_pct,
            case when sum(delivered_messages) > 0
                then sum(retries_per_delivered * delivered_messages) / sum(delivered_messages)
                end as retries_per_delivered
        from marts.fct_delivery_receipts_daily
        where attempt_date >= ?
        group by hop, destination
        order by hop, destination
        """,
        [since],
        columns,
    )


def rate_limits_daily(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    columns = ["attempt_date", "destination", "observed_by", "attempts", "rate_limited",
               "rate_limited_pct"]  # fmt: skip
    return _frame(
        con,
        "marts.fct_vendor_rate_limits_daily",
        f"select {', '.join(columns)} from marts.fct_vendor_rate_limits_daily "
        "where attempt_date >= ? order by attempt_date, destination, observed_by",
        [since],
        columns,
    )


def enrichment_daily(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    columns = ["conversion_date", "attempted", "enriched", "success_pct", "median_s", "p95_s"]
    return _frame(
        con,
        "marts.fct_enrichment_daily",
        f"select {', '.join(columns)} from marts.fct_enrichment_daily "
        "where conversion_date >= ? order by conversion_date",
        [since],
        columns,
    )


def revenue_weekly(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    columns = ["week_start", "conversions", "dropped", "revenue_at_risk_usd", "is_baseline",
               "baseline_revenue_at_risk_usd", "change_vs_baseline_pct"]  # fmt: skip
    return _frame(
        con,
        "marts.fct_revenue_at_risk_weekly",
        f"select {', '.join(columns)} from marts.fct_revenue_at_risk_weekly order by week_start",
        [],
        columns,
    )


def detection_and_handling(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """The ROI's clock, from the review queue: per ISO week of conversion, how many exception
    leads became work items, minutes from conversion to the item opening (detection) and from
    opening to done (handling), as medians; handled counts items people closed."""
    columns = ["week_start", "items", "detection_median_min", "handled",
               "handling_median_min"]  # fmt: skip
    if not (has_table(con, "ops.review_queue") and has_table(con, "marts.fct_conversions")):
        return pd.DataFrame(columns=columns)
    return con.execute(
        """
        with items as (
            select
                cast(date_trunc('week', conversions.converted_at) as date) as week_start,
                epoch(queue.opened_at - conversions.converted_at) / 60.0 as detection_min,
                case when queue.state = 'done' and queue.closed_at is not null
                    then epoch(queue.closed_at - queue.opened_at) / 60.0 end as handling_min
            from ops.review_queue as queue
            inner join marts.fct_conversions as conversions
                on queue.conversion_id = conversions.conversion_id
            where cast(conversions.converted_at as date) >= ?
        )
        select week_start, count(*) as items,
            median(detection_min) as detection_median_min,
            count(handling_min) as handled,
            median(handling_min) as handling_median_min
        from items
        group by week_start
        order by week_start
        """,
        [since],
    ).df()


BUDGET_MART = "marts.fct_parity_budget_daily"
BUDGET_COLUMNS = [
    "hop", "budget_date", "expected_28d", "error_budget", "dropped_28d", "budget_remaining",
    "budget_remaining_pct", "burn_rate_1d", "burn_rate_3d", "burn_rate_28d", "burn_alert",
    "is_budget_exhausted",
]  # fmt: skip


def _budget_select(con: duckdb.DuckDBPyConnection) -> str:
    # A snapshot older than the exhausted flag derives it the way the mart does.
    exhausted = (
        "is_budget_exhausted"
        if "is_budget_exhausted" in _columns(con, BUDGET_MART)
        else "coalesce(expected_28d > 0 and dropped_28d >= error_budget, false)"
    )
    return (
        "select hop, budget_date, expected_28d, error_budget, dropped_28d, budget_remaining, "
        "budget_remaining_pct, burn_rate_1d, burn_rate_3d, burn_rate_28d, burn_alert, "
        f"coalesce({exhausted}, false) as is_budget_exhausted from {BUDGET_MART}"
    )


def parity_budget_daily(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """The parity error budget per final day and hop from `since` (fct_parity_budget_daily)."""
    if not has_table(con, BUDGET_MART):
        return pd.DataFrame(columns=BUDGET_COLUMNS)
    return con.execute(
        f"select * from ({_budget_select(con)}) where budget_date >= ? order by budget_date, hop",
        [since],
    ).df()


def parity_budget_latest(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per hop, the budget as of its latest final day, in chain order."""
    if not has_table(con, BUDGET_MART):
        return pd.DataFrame(columns=BUDGET_COLUMNS)
    frame = con.execute(
        f"select * from ({_budget_select(con)}) "
        "qualify row_number() over (partition by hop order by budget_date desc) = 1"
    ).df()
    return _sort_hops(frame, hop_order(con), [])
