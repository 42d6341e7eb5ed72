"""What the published marts say of the parity SLO and what to fix first: read by the run's
printed verdict (lead_parity/cli/verdict.py) and the dashboard's headline alike, so the two never
disagree. Nothing is judged here: the marts carry the verdicts."""

from __future__ import annotations

from datetime import date

import duckdb


def rows_or_empty(con, sql: str, params=None) -> list[tuple]:
    """The query's rows, or none when a table it reads is missing (nothing built yet)."""
    try:
        return con.execute(sql, params or []).fetchall()
    except duckdb.Error:
        return []


def hop_slo_status(con: duckdb.DuckDBPyConnection, since: date | None = None) -> list[dict]:
    """Per hop in chain order: final days, breached final days, dropped and expected on final
    days, provisional days. The one place a run's SLO verdict is read (CLI and dashboard)."""
    # A day is final at a hop once nothing of that day is pending there (SPEC section 9).
    rows = rows_or_empty(
        con,
        """
        select hop, min(hop_order) as hop_order,
               count(*) filter (where pending = 0 and expected > 0) as final_days,
               count(*) filter (where pending = 0 and slo_breached) as breached_days,
               sum(dropped) filter (where pending = 0) as dropped,
               sum(expected) filter (where pending = 0) as expected,
               count(*) filter (where pending > 0) as provisional_days
        from marts.fct_hop_parity_daily_totals
        where coverage = 'covered' and conversion_date >= ?
        group by hop
        order by hop_order, hop
        """,
        [since or date.min],
    )
    keys = ("hop", "hop_order", "final_days", "breached_days", "dropped", "expected",
            "provisional_days")  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]


def fix_first(
    con: duckdb.DuckDBPyConnection, limit: int | None = 3, since: date | None = None
) -> list[dict]:
    """(hop, cause) groups of dropped conversions ranked by revenue at risk: what to fix first.
    `limit` None gives every group."""
    rows = rows_or_empty(
        con,
        """
        select dropped_at_hop, root_cause, count(*) as dropped, min(owner) as owner,
               coalesce(sum(value_usd), 0) as at_risk
        from marts.rpt_dropped_leads
        where cast(converted_at as date) >= ?
        group by dropped_at_hop, root_cause
        order by at_risk desc, dropped desc, dropped_at_hop, root_cause
        limit ?
        """,
        [since or date.min, limit if limit is not None else 2**62],
    )
    keys = ("hop", "cause", "dropped", "owner", "at_risk")
    return [dict(zip(keys, row, strict=True)) for row in rows]
