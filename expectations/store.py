"""ops.slo_evaluations: every rule's judged units per evaluation, kept across runs.

Not a dbt model, so `dbt build` never drops it. Key (evaluated_at, rule, scope): writing an
evaluation again replaces that rule's rows for that evaluated_at. A Parquet copy under the
history folder survives a deleted warehouse and restores the table when it is missing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from expectations.evaluate import SLO_COLUMNS
from lead_parity.files import replacing

SCHEMA = pa.schema(
    [
        ("evaluated_at", pa.timestamp("us")),
        ("rule", pa.string()),
        ("scope", pa.string()),
        ("conversion_date", pa.date32()),
        ("conversion_type", pa.string()),
        ("origin", pa.string()),
        ("hop", pa.string()),
        ("observed", pa.float64()),
        ("threshold", pa.float64()),
        ("passed", pa.bool_()),
        ("severity", pa.string()),
        ("expected", pa.int64()),
        ("dropped", pa.int64()),
        ("details", pa.string()),
    ]
)

DDL = """
create table if not exists ops.slo_evaluations (
    evaluated_at timestamp not null,
    rule varchar not null,
    scope varchar not null,
    conversion_date date,
    conversion_type varchar,
    origin varchar,
    hop varchar,
    observed double,
    threshold double,
    passed boolean not null,
    severity varchar not null,
    expected bigint,
    dropped bigint,
    details varchar,
    primary key (evaluated_at, rule, scope)
)
"""
HISTORY_FILE = "slo_evaluations.parquet"


def to_arrow(units: pd.DataFrame) -> pa.Table:
    """The units frame typed as the table (dates from ISO text, nullable integers)."""
    frame = units[SLO_COLUMNS].copy()
    frame["conversion_date"] = pd.to_datetime(frame["conversion_date"]).dt.date
    for column in ("expected", "dropped"):
        frame[column] = pd.array(frame[column], dtype="Int64")
    for column in ("observed", "threshold"):
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    frame["passed"] = frame["passed"].astype(bool)
    text = ("rule", "scope", "conversion_type", "origin", "hop", "severity", "details")
    for column in text:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False)


def _ensure_table(con: duckdb.DuckDBPyConnection, history_dir: Path | None) -> None:
    con.execute("create schema if not exists ops")
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'ops' and table_name = 'slo_evaluations'"
    ).fetchone()[0]
    con.execute(DDL)
    backup = history_dir / HISTORY_FILE if history_dir else None
    if not exists and backup and backup.is_file():
        restored = pq.read_table(backup).cast(SCHEMA)
        con.register("restored_evaluations", restored)
        con.execute("insert into ops.slo_evaluations by name select * from restored_evaluations")
        con.unregister("restored_evaluations")


def _write_history(con: duckdb.DuckDBPyConnection, history_dir: Path) -> None:
    history_dir.mkdir(parents=True, exist_ok=True)
    table = con.execute(
        "select * from ops.slo_evaluations order by evaluated_at, rule, scope"
    ).to_arrow_table()
    with replacing(history_dir / HISTORY_FILE) as tmp:
        pq.write_table(table.cast(SCHEMA), tmp)


def write_evaluations(
    warehouse: Path,
    evaluated_at: datetime,
    rule: str,
    units: pd.DataFrame,
    history_dir: Path | None = None,
) -> int:
    """Replace `rule`'s rows of this evaluation with `units`; connect, write, close at once."""
    incoming = to_arrow(units)
    con = duckdb.connect(str(warehouse))
    try:
        _ensure_table(con, history_dir)
        con.execute("begin transaction")
        con.execute(
            "delete from ops.slo_evaluations where evaluated_at = ? and rule = ?",
            [evaluated_at, rule],
        )
        con.register("incoming_evaluations", incoming)
        con.execute("insert into ops.slo_evaluations by name select * from incoming_evaluations")
        con.unregister("incoming_evaluations")
        con.execute("commit")
        if history_dir is not None:
            _write_history(con, history_dir)
    finally:
        con.close()
    return incoming.num_rows


def ensure_table(warehouse: Path, history_dir: Path | None = None) -> None:
    """Create ops.slo_evaluations (restoring history) so readers find it even before a check."""
    con = duckdb.connect(str(warehouse))
    try:
        _ensure_table(con, history_dir)
    finally:
        con.close()


def read_evaluations(warehouse: Path, evaluated_at: datetime | None = None) -> pd.DataFrame:
    """All stored evaluations, or those of one evaluated_at, ordered by rule and scope."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        sql = "select * from ops.slo_evaluations"
        params: list = []
        if evaluated_at is not None:
            sql += " where evaluated_at = ?"
            params.append(evaluated_at)
        return con.execute(sql + " order by evaluated_at, rule, scope", params).df()
    finally:
        con.close()
