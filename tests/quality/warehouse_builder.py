"""Hand-built warehouses with the SPEC section 6 columns, for fast rule tests.

Rows go in through parameters; each helper writes one table and closes the connection.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

HOPS = ["marketing", "crm", "crm_assignment", "support", "support_assignment"]

DDL = [
    "create schema if not exists marts",
    "create schema if not exists ops",
    """create table marts.fct_hop_parity_daily (
        conversion_date date, conversion_type varchar, origin varchar, hop varchar,
        expected bigint, reached bigint, dropped bigint, pending bigint,
        discrepancy_pct double, slo_breached boolean)""",
    """create table marts.fct_conversions (
        conversion_id varchar, lead_key varchar, conversion_type varchar, origin varchar,
        converted_at timestamp, """
    + ", ".join(f"{hop}_reached_at timestamp" for hop in HOPS)
    + """, status varchar, dropped_at_hop varchar, root_cause varchar, late boolean,
        intent_score double, assignment_latency_s double)""",
    """create table marts.fct_assignment_latency_daily (
        conversion_date date, conversion_type varchar, origin varchar,
        assigned bigint, median_s double, p95_s double)""",
    """create table marts.fct_dead_letters_daily (
        date date, hop varchar, dead_lettered bigint, replayed bigint,
        replay_success_pct double)""",
    """create table main.stg_integration__receipts (
        receipt_id varchar, conversion_id varchar, hop varchar, destination varchar,
        attempted_at timestamp, status_code integer, outcome varchar, error varchar)""",
    """create table ops.quarantined_records (
        source varchar, file varchar, position bigint, entity varchar, reason varchar,
        raw varchar)""",
    """create table ops.ingestion_ledger (
        source varchar, file varchar, records_read bigint, records_loaded bigint,
        records_quarantined bigint, duplicates bigint)""",
]

AS_OF = datetime(2026, 10, 12, 10, 0, 0)
DAY = datetime(2026, 10, 10)


class Warehouse:
    """A DuckDB file with empty marts and ops tables, plus helpers that add rows.

    Rows are buffered and written in one connection when `path` is read, so a test adding
    hundreds of rows does not open hundreds of connections.
    """

    def __init__(self, path: Path):
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self._path)) as con:
            for statement in DDL:
                con.execute(statement)
        self._pending: dict[str, list[tuple]] = {}
        self._receipts = 0
        self._conversions = 0

    @property
    def path(self) -> Path:
        """The warehouse file, with every row added so far written to it."""
        if any(self._pending.values()):
            with duckdb.connect(str(self._path)) as con:
                for table, rows in self._pending.items():
                    if rows:
                        marks = ", ".join("?" for _ in rows[0])
                        con.executemany(f"insert into {table} values ({marks})", rows)
            self._pending = {}
        return self._path

    def flush(self) -> Path:
        return self.path

    def _insert(self, table: str, rows: list[tuple]) -> None:
        self._pending.setdefault(table, []).extend(rows)

    def parity(
        self,
        hop: str,
        conversion_type: str,
        origin: str,
        expected: int,
        dropped: int,
        day: datetime = DAY,
    ) -> None:
        pct = 100.0 * dropped / expected if expected else None
        self._insert(
            "marts.fct_hop_parity_daily",
            [(day.date(), conversion_type, origin, hop, expected, expected - dropped, dropped, 0,
              pct, False)],
        )  # fmt: skip

    def conversion(
        self,
        conversion_id: str | None = None,
        *,
        conversion_type: str = "demo_request",
        origin: str = "google_ads",
        converted_at: datetime = DAY + timedelta(hours=10),
        intent_score: float | None = None,
        assignment_latency_s: float | None = None,
    ) -> str:
        self._conversions += 1
        conversion_id = conversion_id or f"c{self._conversions:05d}"
        self._insert(
            "marts.fct_conversions",
            [(conversion_id, f"lead-{conversion_id}", conversion_type, origin, converted_at,
              *([None] * len(HOPS)), "delivered", None, None, False, intent_score,
              assignment_latency_s)],
        )  # fmt: skip
        return conversion_id

    def receipt(self, conversion_id: str, hop: str, outcome: str, attempted_at: datetime) -> None:
        self._receipts += 1
        code = {"delivered": 200, "replayed": 200, "failed": 503}.get(outcome)
        self._insert(
            "main.stg_integration__receipts",
            [(f"r{self._receipts:05d}", conversion_id, hop, "dest", attempted_at, code, outcome,
              None)],
        )  # fmt: skip

    def quarantine(self, n: int, source: str = "segment", reason: str = "not JSON") -> None:
        self._insert(
            "ops.quarantined_records",
            [(source, "a.jsonl", i, "message", reason, "{oops") for i in range(n)],
        )

    def ledger(self, source: str, file: str, read: int, loaded: int, quarantined: int,
               duplicates: int) -> None:  # fmt: skip
        self._insert(
            "ops.ingestion_ledger", [(source, file, read, loaded, quarantined, duplicates)]
        )
