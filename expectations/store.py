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

from lead_parity.contract.evaluations import COLUMNS, SCHEMA, ddl
from lead_parity.files import replacing

DDL = ddl()
HISTORY_FILE = "slo_evaluations.parquet"


def to_arrow(units: pd.DataFrame) -> pa.Table:
    """The units frame typed as the table (dates from ISO text, nullable integers)."""
    frame = units[list(COLUMNS)].copy()
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


def write_evaluation(
    warehouse: Path,
    evaluated_at: datetime,
    units_by_rule: dict[str, pd.DataFrame],
    history_dir: Path | None = None,
) -> dict[str, int]:
    """Replace each given rule's rows of this evaluation with its units, in one transaction.

    Rules not named keep their rows (the remediation asset writes its own). Connect, write,
    close at once. Returns the rows written per rule.
    """
    incoming = {rule: to_arrow(units) for rule, units in units_by_rule.items()}
    con = duckdb.connect(str(warehouse))
    try:
        _ensure_table(con, history_dir)
        con.execute("begin transaction")
        for rule, table in incoming.items():
            con.execute(
                "delete from ops.slo_evaluations where evaluated_at = ? and rule = ?",
                [evaluated_at, rule],
            )
            con.register("incoming_evaluations", table)
            con.execute(
                "insert into ops.slo_evaluations by name select * from incoming_evaluations"
            )
            con.unregister("incoming_evaluations")
        con.execute("commit")
        if history_dir is not None:
            _write_history(con, history_dir)
    finally:
        con.close()
    return {rule: table.num_rows for rule, table in incoming.items()}


def write_evaluations(
    warehouse: Path,
    evaluated_at: datetime,
    rule: str,
    units: pd.DataFrame,
    history_dir: Path | None = None,
) -> int:
    """Replace `rule`'s rows of this evaluation with `units`."""
    return write_evaluation(warehouse, evaluated_at, {rule: units}, history_dir)[rule]


def ensure_table(warehouse: Path, history_dir: Path | None = None) -> None:
    """Create ops.slo_evaluations (restoring history) so readers find it even before a check."""
    con = duckdb.connect(str(warehouse))
    try:
        _ensure_table(con, history_dir)
    finally:
        con.close()


def read_evaluations(
    warehouse: Path, evaluated_at: datetime | None = None, rule: str | None = None
) -> pd.DataFrame:
    """Stored evaluations (all, or of one evaluated_at and/or rule) ordered by rule and scope.

    Read-only: an evaluation not written yet (no table) reads as no rows, typed as the table.
    """
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'ops' and table_name = 'slo_evaluations'"
        ).fetchone()[0]
        if not exists:
            return SCHEMA.empty_table().to_pandas()
        sql = "select * from ops.slo_evaluations where true"
        params: list = []
        if evaluated_at is not None:
            sql += " and evaluated_at = ?"
            params.append(evaluated_at)
        if rule is not None:
            sql += " and rule = ?"
            params.append(rule)
        return con.execute(sql + " order by evaluated_at, rule, scope", params).df()
    finally:
        con.close()
