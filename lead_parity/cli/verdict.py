"""The verdict a run prints first: does the parity SLO hold per hop, what to fix first, and a
warning when the input looks stale for the run's as_of."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from lead_parity.pipeline.paths import RunPaths
from lead_parity.readers.verdict import fix_first, hop_slo_status, rows_or_empty

STALE_AFTER = timedelta(days=1)


def slo_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = hop_slo_status(con)
    if not rows:
        return []
    breached = [r["hop"] for r in rows if r["breached_days"]]
    head = (
        f"parity SLO BREACHED at {len(breached)} of {len(rows)} hops ({', '.join(breached)})"
        if breached
        else f"parity SLO held at all {len(rows)} hops"
    )
    columns = f"{'final days':>11}{'breached':>10}{'dropped':>10}{'expected':>10}{'rate':>8}"
    lines = [head, f"  {'hop':<20}{columns}"]
    for r in rows:
        dropped, expected, provisional = r["dropped"], r["expected"], r["provisional_days"]
        rate = f"{100 * dropped / expected:.2f}%" if expected else "-"
        note = f"  (+{provisional} provisional)" if provisional else ""
        lines.append(
            f"  {r['hop']:<20}{r['final_days']:>11}{r['breached_days']:>10}{dropped or 0:>10,}"
            f"{expected or 0:>10,}{rate:>8}{note}"
        )
    return lines


def fix_first_lines(con: duckdb.DuckDBPyConnection, limit: int = 3) -> list[str]:
    rows = fix_first(con, limit)
    if not rows:
        return []
    lines = ["what to fix first (by revenue at risk):"]
    for i, r in enumerate(rows, 1):
        lines.append(
            f"  {i}. {r['hop']} / {r['cause']}: {r['dropped']:,} dropped, "
            f"${r['at_risk']:,.0f} at risk, owner {r['owner']}"
        )
    return lines


def stale_input_line(con: duckdb.DuckDBPyConnection, as_of: datetime) -> str | None:
    rows = rows_or_empty(con, "select max(converted_at) from marts.fct_conversions")
    newest = rows[0][0] if rows else None
    as_of_naive = as_of.replace(tzinfo=None)
    if newest is None or as_of_naive - newest <= STALE_AFTER:
        return None
    days = (as_of_naive - newest).total_seconds() / 86400
    return (
        f"WARNING: the newest conversion in the input ({newest:%Y-%m-%d %H:%M}) is {days:.1f} days "
        f"before as_of ({as_of:%Y-%m-%d %H:%M}); is the export current, or is --as-of wrong?"
    )


def verdict_lines(paths: RunPaths, as_of: datetime) -> list[str]:
    """Empty when the warehouse has no marts to judge (nothing was built)."""
    if paths.engine != "duckdb" or not paths.warehouse.exists():
        return []
    try:
        con = duckdb.connect(str(paths.warehouse), read_only=True)
    except duckdb.Error:
        return []
    with con:
        lines = slo_lines(con)
        fix = fix_first_lines(con)
        stale = stale_input_line(con, as_of)
    out = []
    if stale:
        out.append(stale)
    out += lines
    out += fix
    return out
