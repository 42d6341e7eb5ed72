"""A loader's tables, opened read-only in the ingestion's private DuckDB: a folder of Parquet
files, a DuckDB database file, or a Postgres database (DuckDB's postgres extension).

Loaders create a column only once a value arrived for it (Segment says so; Fivetran and Airbyte
add property columns as they appear), so an absent optional column reads as null; an absent
required table or column is a configuration error, reported in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


class WarehouseInputError(ValueError):
    """The configured tables cannot be read as the adapter's layout (one line, no traceback)."""


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Column:
    name: str  # as the table spells it (Snowflake-style upper case is matched case-insensitively)
    type: str  # DuckDB type name


class Table:
    """One table of the layout with its columns; SQL helpers that read an absent column as null."""

    def __init__(self, name: str, relation: str, columns: dict[str, Column], where: str):
        self.name, self.relation, self.columns, self.where = name, relation, columns, where

    def has(self, column: str) -> bool:
        return column in self.columns

    def require(self, *columns: str) -> None:
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise WarehouseInputError(
                f"{self.where}: table {self.name} has no column {', '.join(missing)}"
            )

    def col(self, column: str, alias: str | None = None) -> str:
        if column not in self.columns:
            return "null"
        ref = ident(self.columns[column].name)
        return f"{alias}.{ref}" if alias else ref

    def text(self, column: str, alias: str | None = None) -> str:
        """The value as text: numbers keep every digit (Zendesk's 64-bit ids)."""
        if column not in self.columns:
            return "cast(null as varchar)"
        return f"cast({self.col(column, alias)} as varchar)"

    def ts(self, column: str, alias: str | None = None) -> str:
        """A time as the API would spell it: ISO-8601 UTC for typed timestamps; text and epoch
        milliseconds as they are (the parse reads both, and quarantines what it cannot)."""
        if column not in self.columns:
            return "null"
        return self.ts_of(self.col(column, alias), column)

    def ts_of(self, ref: str, column: str) -> str:
        """`ts` for an expression (an aggregate, say) of the type of `column`."""
        kind = self.columns[column].type.upper()
        if kind.startswith("TIMESTAMP") or kind == "DATE":
            # The connection's zone is UTC: a zoned time converts, a naive one is UTC already.
            return f"strftime(cast({ref} as timestamp), '%Y-%m-%dT%H:%M:%S.%fZ')"
        return ref

    def json(self, column: str, alias: str | None = None) -> str:
        """A nested value (object or array) as JSON, whether stored as JSON, text or a struct."""
        if column not in self.columns:
            return "cast(null as json)"
        ref, kind = self.col(column, alias), self.columns[column].type.upper()
        if kind in ("VARCHAR", "JSON") or kind.startswith("VARCHAR"):
            return f"try_cast({ref} as json)"
        return f"to_json({ref})"


class LoaderTables:
    """The tables at a source's configured `path` (and `schema`), attached to `con`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, where: str, path: str, schema: str | None):
        self.con, self.where = con, where
        self._parquet: Path | None = None
        if path.startswith("postgres:"):
            # The password comes from the environment (PGPASSWORD / ~/.pgpass), never the
            # contract: libpq reads it there.
            try:
                # Loading installs it from extensions.duckdb.org the first time (network).
                con.execute("load postgres")
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0]
                raise WarehouseInputError(
                    f"{where}: cannot load DuckDB's postgres extension: {first}"
                ) from None
            self._attach(path.removeprefix("postgres:"), "(type postgres, read_only)")
            self.catalog, self.schema = "loader", schema or "public"
        elif Path(path).is_dir():
            if schema:
                # A folder of Parquet has no schemas; a sub-folder per schema is the usual layout.
                path = str(Path(path) / schema)
            self._parquet = Path(path)
            self.catalog, self.schema = None, None
        elif Path(path).is_file():
            self._attach(path, "(read_only)")
            self.catalog, self.schema = "loader", schema or "main"
        else:
            raise WarehouseInputError(f"{where}: path {path} does not exist")

    def _attach(self, target: str, options: str) -> None:
        try:
            self.con.execute(f"attach {literal(target)} as loader {options}")
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise WarehouseInputError(f"{self.where}: cannot open {target}: {first}") from None

    def names(self) -> set[str]:
        """Table names present, lower-cased."""
        if self._parquet is not None:
            names = {p.name.removesuffix(".parquet").lower() for p in self._parquet.iterdir()}
            return {n for n in names if self._parquet_files(n)}
        rows = self.con.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = ? "
            "union all select view_name from duckdb_views() "
            "where database_name = ? and schema_name = ?",
            [self.catalog, self.schema, self.catalog, self.schema],
        ).fetchall()
        return {r[0].lower() for r in rows}

    def _parquet_files(self, name: str) -> list[str]:
        assert self._parquet is not None
        found = []
        for entry in self._parquet.iterdir():
            stem = entry.name.removesuffix(".parquet")
            if stem.lower() != name:
                continue
            if entry.is_file() and entry.name.endswith(".parquet"):
                found.append(str(entry))
            elif entry.is_dir():
                # Airbyte's and Segment's object-store destinations write many files per stream.
                found += sorted(str(p) for p in entry.rglob("*.parquet") if p.is_file())
        return sorted(found)

    def table(self, name: str, required: bool = True) -> Table | None:
        if name not in self.names():
            if not required:
                return None
            raise WarehouseInputError(f"{self.where}: no table {name}")
        if self._parquet is not None:
            files = "[" + ", ".join(literal(f) for f in self._parquet_files(name)) + "]"
            relation = f"read_parquet({files}, union_by_name = true)"
        else:
            actual = self.con.execute(
                "select table_name from duckdb_tables() where database_name = ? "
                "and schema_name = ? and lower(table_name) = ? union all "
                "select view_name from duckdb_views() where database_name = ? "
                "and schema_name = ? and lower(view_name) = ?",
                [self.catalog, self.schema, name] * 2,
            ).fetchone()[0]
            relation = f"{ident(self.catalog)}.{ident(self.schema)}.{ident(actual)}"
        described = self.con.execute(f"describe select * from {relation}").fetchall()
        columns = {r[0].lower(): Column(r[0], r[1]) for r in described}
        return Table(name, relation, columns, self.where)
