"""Descriptions for every published table and column, written as COMMENT ON in the snapshot.

dbt's models carry theirs into the warehouse (persist_docs, from the models' YAML); the tables
lead-parity writes itself (contract, incidents, review queue, SLO evaluations) are described in
table_docs.yml beside this module. A BI user browsing the snapshot's catalog sees both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import yaml

from lead_parity.pipeline.publish.columns import TEXT_SUFFIX

TABLE_DOCS = Path(__file__).with_name("table_docs.yml")


@dataclass
class TableDoc:
    description: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    # COMMENT ON takes no prepared parameters; the texts are our own documentation.
    return "'" + text.replace("'", "''") + "'"


@cache
def shipped_docs() -> dict[tuple[str, str], TableDoc]:
    """table_docs.yml as (schema, table) -> TableDoc."""
    loaded = yaml.safe_load(TABLE_DOCS.read_text()) or {}
    docs = {}
    for entry in loaded.get("tables", []):
        schema, table = entry["name"].split(".")
        columns = {name: " ".join(str(text).split()) for name, text in entry["columns"].items()}
        docs[(schema, table)] = TableDoc(" ".join(entry["description"].split()), columns)
    return docs


def catalog_docs(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[tuple[str, str], TableDoc]:
    """The comments the attached database `catalog` already has (dbt's persist_docs)."""
    docs: dict[tuple[str, str], TableDoc] = {}
    for schema, table, comment in con.execute(
        "select schema_name, table_name, comment from duckdb_tables() where database_name = ?",
        [catalog],
    ).fetchall():
        docs[(schema, table)] = TableDoc(" ".join(comment.split()) if comment else None)
    for schema, table, column, comment in con.execute(
        """
        select schema_name, table_name, column_name, comment
        from duckdb_columns()
        where database_name = ? and comment is not null
        """,
        [catalog],
    ).fetchall():
        docs.setdefault((schema, table), TableDoc()).columns[column] = " ".join(comment.split())
    return docs


def _column_doc(doc: TableDoc, column: str) -> str | None:
    if column in doc.columns:
        return doc.columns[column]
    if column.endswith(TEXT_SUFFIX) and column[: -len(TEXT_SUFFIX)] in doc.columns:
        listed = doc.columns[column[: -len(TEXT_SUFFIX)]].rstrip(".")
        return f"{listed}, joined with ', ' (for tools that do not read lists)."
    return None


def comment_snapshot(
    con: duckdb.DuckDBPyConnection, catalog: str, warehouse_docs: dict[tuple[str, str], TableDoc]
) -> list[str]:
    """COMMENT ON every table and column of `catalog` that the warehouse's comments or
    table_docs.yml describe; returns the `schema.table.column`s (or tables) left undescribed."""
    missing = []
    rows = con.execute(
        """
        select schema_name, table_name, column_name
        from duckdb_columns()
        where database_name = ?
        order by schema_name, table_name, column_index
        """,
        [catalog],
    ).fetchall()
    tables: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        tables.setdefault((schema, table), []).append(column)
    shipped = shipped_docs()
    for (schema, table), columns in tables.items():
        doc = warehouse_docs.get((schema, table)) or TableDoc()
        extra = shipped.get((schema, table), TableDoc())
        merged = TableDoc(doc.description or extra.description, {**extra.columns, **doc.columns})
        target = f"{_quote(catalog)}.{_quote(schema)}.{_quote(table)}"
        if merged.description:
            con.execute(f"comment on table {target} is {_literal(merged.description)}")
        else:
            missing.append(f"{schema}.{table}")
        for column in columns:
            text = _column_doc(merged, column)
            if text is None:
                missing.append(f"{schema}.{table}.{column}")
                continue
            con.execute(f"comment on column {target}.{_quote(column)} is {_literal(text)}")
    return missing
