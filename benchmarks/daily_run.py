"""One new day on a month of history, through the whole product (issue 18): a daily `lead-parity
run` against a full one, and where each one's time goes.

Simulates N persons over D days (or takes `--stack`), holds back the last day's files, then runs
`lead-parity run` three times, each in its own process:

1. history: every day but the last, into a new warehouse, at the last day's midnight;
2. daily: the last day delivered, the same warehouse, as_of a day later (new files parsed, the
   rest from the parsed cache, every model rebuilt);
3. full: a new warehouse over every file at the daily run's as_of, the run the daily one must
   equal (SPEC section 9; `identical` compares every marts table).

For each: wall seconds, the steps' seconds (from the run's own `time` line), the overhead (wall
minus the steps: Python and Dagster start-up, loading the definitions, the run's own bookkeeping),
the three longest steps, and the peak RSS of the run's process tree.
`daily_over_full` is issue 18's figure (target: at most 0.2).

    .venv/bin/python benchmarks/daily_run.py --leads 100000 --days 30
    .venv/bin/python benchmarks/daily_run.py --stack /tmp/stack-1m --keep /tmp/daily-1m
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from stack import deliver, hold_back_last_day, simulate_stack, size_mb

CLI = [sys.executable, "-m", "lead_parity.cli.main"]
TIMING = re.compile(r"time +(\d+) steps (\d+) s \((.+)\); Dagster overhead (\d+) s")
HISTORY = ("incidents", "incident_events", "slo_evaluations", "review_queue",
           "review_queue_actions", "remediation_queue", "remediation_attempts")  # fmt: skip


def _run(stack: Path, warehouse: Path, as_of: datetime) -> dict:
    """One `lead-parity run` under GNU time (its peak RSS covers dbt's process too)."""
    rss = warehouse.parent.with_name(warehouse.parent.name + ".rss")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(rss), *CLI, "run", "--input", str(stack),
         "--warehouse", str(warehouse), "--as-of", f"{as_of:%Y-%m-%dT%H:%M:%S}Z"],
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"lead-parity run failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    timing = TIMING.search(done.stdout)
    steps, steps_s, longest, overhead = timing.groups() if timing else (0, 0, "", 0)
    parsed = re.search(r"input files: ([\d,]+) parsed", done.stdout)
    return {
        "seconds": round(seconds, 1),
        "steps": int(steps),
        "steps_s": int(steps_s),
        # Issue 18's "Dagster overhead": the process's wall minus its steps (start-up included);
        # the run's own line counts from the job's start.
        "overhead_s": round(seconds - int(steps_s)),
        "in_job_overhead_s": int(overhead),
        "longest_steps": longest,
        "peak_rss_mb": round(int(rss.read_text().split()[-1]) / 1024),
        "files_parsed": int(parsed.group(1).replace(",", "")) if parsed else None,
    }


def _identical(left: Path, right: Path) -> bool:
    """Every marts table and every ops table but people's history, row for row (SPEC 9)."""
    with duckdb.connect() as con:
        for alias, path in (("l", left), ("r", right)):
            # ATTACH takes no bound parameters: the path is quoted as a SQL string literal.
            quoted = str(path).replace("'", "''")
            con.execute(f"attach '{quoted}' as {alias} (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'r' "
            "and schema_name in ('marts', 'ops')"
        ).fetchall()
        for schema, table in tables:
            if table in HISTORY:
                continue
            where = " where is_current" if table == "ingestion_ledger" else ""
            for a, b in (("l", "r"), ("r", "l")):
                differs = con.execute(
                    f'select count(*) from (select * from {a}."{schema}"."{table}"{where} '
                    f'except all select * from {b}."{schema}"."{table}"{where})'
                ).fetchone()[0]
                if differs:
                    print(f"{schema}.{table} differs: {differs} rows", file=sys.stderr)
                    return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--stack", help="a simulated stack to use in place (no simulate step)")
    parser.add_argument("--keep", help="keep the warehouses (and a simulated stack) here")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="lp-daily-run-"))
    try:
        stack = Path(args.stack) if args.stack else root / "input"
        simulate_s = 0.0
        if not args.stack:
            simulate_s = simulate_stack(stack, args.leads, args.days)
        held = root / "held"
        last_day = hold_back_last_day(stack, held)
        midnight = datetime.fromisoformat(last_day)
        daily_warehouse = root / "daily" / "lead_parity.duckdb"
        history = _run(stack, daily_warehouse, midnight)
        deliver(held, stack)
        daily = _run(stack, daily_warehouse, midnight + timedelta(days=1))
        full_warehouse = root / "full" / "lead_parity.duckdb"
        full = _run(stack, full_warehouse, midnight + timedelta(days=1))
        result = {
            "leads": args.leads if not args.stack else None,
            "days": args.days if not args.stack else None,
            "input_mb": size_mb(stack),
            "simulate_s": round(simulate_s, 1),
            "history_run": history,
            "daily_run": daily,
            "full_run": full,
            "daily_over_full": round(daily["seconds"] / full["seconds"], 3),
            "identical": _identical(daily_warehouse, full_warehouse),
        }
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
