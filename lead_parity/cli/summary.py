"""The short human summary printed at the end of `lead-parity run` and `lead-parity demo`."""

import contextlib
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

import duckdb

from lead_parity.contract import HOP_RULES
from lead_parity.pipeline.human_state import from_iso
from lead_parity.pipeline.paths import RunPaths
from lead_parity.readers.verdict import rows_or_empty

HOP_SOURCES = {rule["system"] for rule in HOP_RULES.values()}


def ingestion_lines(paths: RunPaths) -> list[str]:
    ledgers = sorted(str(p) for p in paths.landed.glob("*/ledger.parquet"))
    manifests = sorted(str(p) for p in paths.landed.glob("*/manifest.parquet"))
    if not ledgers:
        return []
    with duckdb.connect() as con:
        present = dict(
            rows_or_empty(con, "select source, is_present from read_parquet(?)", [manifests])
        )
        # Current versions only: the ledger also keeps superseded versions as history.
        rows = rows_or_empty(
            con,
            "select source, count(*), sum(records_read), sum(records_loaded), "
            "sum(records_quarantined), sum(duplicates) from read_parquet(?, union_by_name = true) "
            "where coalesce(is_current, true) group by source order by source",
            [ledgers],
        )
        missing = rows_or_empty(
            con,
            "select source, file from read_parquet(?, union_by_name = true) "
            "where is_current and not in_input order by source, file",
            [ledgers],
        )
    counted = {r[0] for r in rows}
    lines = [
        f"  {'source':<18}{'files':>7}{'read':>11}{'loaded':>11}{'quarantined':>13}{'dupes':>9}"
    ]
    for source, files, read, loaded, quarantined, dupes in rows:
        lines.append(
            f"  {source:<18}{files:>7}{read:>11,}{loaded:>11,}{quarantined:>13,}{dupes:>9,}"
        )
    for source, file in missing:
        lines.append(f"  {source:<18}  gone from the input, records kept: {file}")
    for source, is_present in sorted(present.items()):
        if not is_present and source not in counted and source in HOP_SOURCES:
            lines.append(f"  {source:<18}  (folder absent: its hops are reported as unknown)")
    return lines


def _open_marts(paths: RunPaths) -> duckdb.DuckDBPyConnection:
    """A connection where the marts are plain names: the DuckDB file's `marts` schema, or views
    over the Parquet files Spark wrote (a mart that is missing stays missing, its query empty)."""
    if paths.engine == "duckdb":
        con = duckdb.connect(str(paths.warehouse), read_only=True)
        with contextlib.suppress(duckdb.Error):  # no marts schema yet: the queries come back empty
            con.execute("use marts")
        return con
    con = duckdb.connect()
    for table in ("fct_conversions", "rpt_dropped_leads"):
        try:
            con.read_parquet(str(paths.mart_parquet(table) / "*.parquet")).create_view(table)
        except duckdb.Error:
            continue
    return con


def findings_lines(paths: RunPaths, limit: int = 5) -> list[str]:
    if not paths.warehouse.exists():
        return []
    try:
        con = _open_marts(paths)
    except duckdb.Error as exc:
        return [f"  (cannot open the warehouse to summarise: {str(exc).splitlines()[0]})"]
    with con:
        status = rows_or_empty(
            con, "select status, count(*) from fct_conversions group by 1 order by 2 desc"
        )
        by_hop = rows_or_empty(
            con,
            "select dropped_at_hop, root_cause, count(*) from fct_conversions "
            "where status = 'dropped' group by 1, 2 order by 3 desc limit ?",
            [limit],
        )
        by_origin = rows_or_empty(
            con,
            "select origin, count(*), sum(value_usd) from rpt_dropped_leads "
            "group by 1 order by 2 desc limit ?",
            [limit],
        )
    lines = []
    if status:
        total = sum(n for _, n in status)
        parts = ", ".join(f"{s} {n:,}" for s, n in status)
        lines.append(f"  conversions: {total:,} ({parts})")
    if by_hop:
        lines.append("  top drops (hop / root cause):")
        lines += [f"    {hop:<20}{cause:<22}{n:>8,}" for hop, cause, n in by_hop]
    if by_origin:
        lines.append("  dropped by campaign origin (count, value at risk):")
        lines += [f"    {o:<20}{n:>8,}  ${(v or 0):>12,.0f}" for o, n, v in by_origin]
    return lines


def review_queue_line(paths: RunPaths, as_of: datetime) -> str | None:
    """Work items waiting for a person after this run: open or claimed, past due, per kind."""
    from lead_parity.pipeline.review_queue.store import STORE_FILE, QueueStore

    if not (paths.history / STORE_FILE).is_file():
        return None
    waiting = QueueStore.in_history(paths.history).items(states=("open", "claimed"))
    if not waiting:
        return "review queue: nothing waiting"
    overdue = sum(1 for item in waiting if (from_iso(item["due_at"]) or as_of) < as_of)
    kinds = Counter(item["kind"] for item in waiting)
    by_kind = ", ".join(f"{kind} {n:,}" for kind, n in sorted(kinds.items()))
    return (
        f"review queue: {len(waiting):,} waiting ({overdue:,} past due; {by_kind}); "
        "`lead-parity queue list` shows them"
    )


def timing_line(wall_s: float, step_seconds: dict[str, float], top: int = 3) -> str:
    """Where a run's time went: its longest steps, and what no step accounts for (Dagster's own
    work: loading the definitions, starting the run and its resources, the event log)."""
    steps = sum(step_seconds.values())
    longest = sorted(step_seconds.items(), key=lambda kv: -kv[1])[:top]
    named = ", ".join(f"{key} {seconds:.0f} s" for key, seconds in longest)
    return (
        f"{len(step_seconds)} steps {steps:.0f} s ({named}); "
        f"Dagster overhead {max(wall_s - steps, 0.0):.0f} s"
    )


def files_line(files: Mapping[str, int]) -> str:
    """What this run read (SPEC section 9: an unchanged file is not parsed again)."""
    line = (
        f"input files: {files.get('parsed', 0):,} parsed (new or changed), "
        f"{files.get('reused', 0):,} unchanged and taken from the parsed cache"
    )
    superseded = files.get("superseded", 0)
    return line + (f", {superseded:,} earlier versions superseded" if superseded else "")
