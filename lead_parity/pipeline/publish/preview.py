"""Row counts and a small markdown preview of each published mart, for the orchestrator's UI."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from lead_parity.pipeline.publish.snapshot import open_snapshot, read_manifest

PREVIEW_ROWS = 5
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Metadata lands in the orchestrator's event log: keep raw email addresses out of it.
    text = _EMAIL.sub(r"\1***@\2", text)
    return text.replace("|", "\\|").replace("\n", " ")[:60]


def markdown_preview(con: duckdb.DuckDBPyConnection, table: str, rows: int = PREVIEW_ROWS) -> str:
    """The first rows of `schema.table` as a markdown table (emails masked)."""
    schema, name = table.split(".")
    cursor = con.execute(f'select * from "{schema}"."{name}" limit ?', [rows])
    columns = [d[0] for d in cursor.description]
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(_cell(v) for v in row) + " |" for row in cursor.fetchall()),
    ]
    return "\n".join(lines)


def mart_summaries(published_dir: Path, schema: str = "marts") -> dict[str, dict]:
    """`table` -> {"row_count", "preview", "columns"} for every table of `schema` published."""
    manifest = read_manifest(published_dir)
    out: dict[str, dict] = {}
    with open_snapshot(published_dir) as con:
        for table, count in manifest["tables"].items():
            if not table.startswith(f"{schema}."):
                continue
            name = table.split(".", 1)[1]
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
            ]
            out[name] = {
                "row_count": int(count),
                "columns": columns,
                "preview": markdown_preview(con, table),
            }
    return out
