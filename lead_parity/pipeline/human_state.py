"""State people change (incidents, the review queue, remediation) and its mirror into `ops`.

Each kind lives in its own SQLite file under the warehouse's `history/` folder, so an ack, a claim
or an approval is taken at once, even while a run holds the DuckDB file. The next run copies each
store into `ops.*` tables in one DuckDB transaction: the store is the truth, the mirror is for
readers of the published snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

TIMESTAMP = pa.timestamp("us")
_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


def iso(ts: datetime) -> str:
    """Fixed-width UTC text, so text order is time order in SQLite."""
    return ts.astimezone(UTC).strftime(_ISO)


def from_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, _ISO).replace(tzinfo=UTC)


def naive_utc(text: str | None) -> datetime | None:
    """A stored time as the naive UTC timestamp the warehouse's columns hold."""
    value = from_iso(text)
    return value.astimezone(UTC).replace(tzinfo=None) if value else None


def connect(path: Path, *, synchronous: str = "full") -> sqlite3.Connection:
    """A WAL connection with autocommit off to the caller: `begin immediate` takes the write lock.

    `synchronous = full` by default: a decision acknowledged to a person must survive a power cut.
    """
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute("pragma journal_mode = wal")
    con.execute(f"pragma synchronous = {synchronous}")
    con.execute("pragma busy_timeout = 30000")
    return con


class SqliteStore:
    """One short-lived connection per call: no store keeps a person's command waiting on a lock
    held between calls."""

    path: Path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = connect(self.path)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as con, transaction(con):
            yield con


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`begin immediate` (the write lock up front, so no upgrade deadlock), commit or roll back."""
    con.execute("begin immediate")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        if con.in_transaction:  # a failed commit (busy) leaves it open: never on a kept connection
            con.execute("rollback")
        raise


def ops_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Store rows as an Arrow table of `schema`: its timestamp columns parsed from stored text,
    any key the schema does not name left out (it stays in SQLite)."""
    stamps = {f.name for f in schema if f.type == TIMESTAMP}
    return pa.Table.from_pylist(
        [{n: (naive_utc(r[n]) if n in stamps else r[n]) for n in schema.names} for r in rows],
        schema=schema,
    )


def replace_ops_tables(con: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table]) -> None:
    """Replace `ops.<name>` with each table, all in one transaction: readers never see one
    table of a store new and the other old."""
    views = {name: f"_mirror_{name}" for name in tables}
    for name, table in tables.items():
        con.register(views[name], table)
    try:
        con.execute("begin")
        try:
            con.execute("create schema if not exists ops")
            for name, view in views.items():
                con.execute(f"create or replace table ops.{name} as select * from {view}")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        for view in views.values():
            con.unregister(view)
