"""Read a mart from either engine as comparable rows: the DuckDB file's table or the Parquet files
Spark wrote, with floats rounded (the engines sum and interpolate in different orders) and
timestamps as naive UTC (Spark writes instants, DuckDB keeps naive UTC)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lead_parity.pipeline.paths import RunPaths

FLOAT_DIGITS = 6


def _normal(value):
    if isinstance(value, float):
        return round(value, FLOAT_DIGITS)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def duckdb_rows(warehouse: Path, schema: str, table: str) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"use {schema}")
        return _fetch(con.table(table))


def spark_rows(spark_warehouse: Path, schema: str, table: str) -> list[dict]:
    files = str(RunPaths(spark_warehouse, "spark").mart_parquet(table, schema) / "*.parquet")
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        return _fetch(con.read_parquet(files))


def _fetch(relation) -> list[dict]:
    names = relation.columns
    return [{n: _normal(v) for n, v in zip(names, row, strict=True)} for row in relation.fetchall()]


def as_multiset(rows: list[dict], drop: tuple[str, ...] = ()) -> Counter:
    return Counter(tuple(sorted((k, v) for k, v in row.items() if k not in drop)) for row in rows)


def key_mapping(left: list[dict], right: list[dict], by: tuple[str, ...], key: str) -> dict:
    """left key -> right key for rows matched on `by`; fails unless it is a bijection, i.e. both
    engines group the same rows together whatever the keys are spelled."""
    right_key = {tuple(r[c] for c in by): r[key] for r in right}
    pairs = {(row[key], right_key.get(tuple(row[c] for c in by))) for row in left}
    forward = Counter(a for a, _ in pairs)
    backward = Counter(b for _, b in pairs)
    split = [a for a, n in forward.items() if n > 1]
    merged = [b for b, n in backward.items() if n > 1]
    assert not split and not merged and None not in backward, (split[:5], merged[:5])
    return dict(pairs)
