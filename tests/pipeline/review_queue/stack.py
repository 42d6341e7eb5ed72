"""A small real warehouse with the columns the review queue reads, and the CLI as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

CLI = str(Path(sys.executable).with_name("lead-parity"))
HOPS = ("marketing", "crm", "crm_assignment", "support", "support_assignment")

DDL = f"""
create schema if not exists marts;
create or replace table marts.fct_conversions (
    conversion_id varchar, conversion_type varchar, origin varchar, converted_at timestamp,
    intent_score double, {", ".join(f"{h}_reached_at timestamp" for h in HOPS)});
create or replace table main.stg_integration__receipts (
    receipt_id varchar, conversion_id varchar, hop varchar, attempted_at timestamp,
    outcome varchar);
"""


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def naive(ts: datetime | None) -> datetime | None:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts else None


def write_stack(warehouse: Path, conversions: list[dict], receipts: list[dict]) -> None:
    """Replace the marts and receipts the queue reads (what a pipeline run would rebuild)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(DDL)
        for c in conversions:
            con.execute(
                "insert into marts.fct_conversions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    c["conversion_id"], c.get("conversion_type", "demo_request"),
                    c.get("origin", "google"), naive(c["converted_at"]), c.get("intent_score"),
                    *(naive(c.get(f"{h}_reached_at")) for h in HOPS),
                ],
            )  # fmt: skip
        for i, r in enumerate(receipts):
            con.execute(
                "insert into main.stg_integration__receipts values (?, ?, ?, ?, ?)",
                [f"r{i}", r["conversion_id"], r["hop"], naive(r["attempted_at"]), r["outcome"]],
            )
    finally:
        con.close()


def review_queue(warehouse: Path) -> dict[str, dict]:
    """ops.review_queue by (kind, conversion_id)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute("select * from ops.review_queue")
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    return {(r["kind"], r["conversion_id"]): r for r in rows}


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAD_PARITY_")}
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
