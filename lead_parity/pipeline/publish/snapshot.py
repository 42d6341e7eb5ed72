"""Publish the marts for readers: Parquet per table and a read-only DuckDB copy, swapped at once.

Why a copy at all: while the pipeline holds the warehouse read-write every other open fails, and a
reader that stays open blocks the next write. Readers therefore never touch the warehouse.

Layout (all on one filesystem, so the final rename is atomic):

    <data_dir>/published                  symlink -> .published_versions/<version>
    <data_dir>/.published_versions/<version>/
        lead_parity.duckdb                schemas marts, ops, contract (read-only copy),
                                          every table and column commented (comments.py)
        marts/<table>.parquet, ops/<table>.parquet, contract/<table>.parquet
        manifest.json                     version, published_at, as_of, tables and row counts

A publish builds a new version folder, then renames a fresh symlink over `published`
(rename(2) replaces a symlink atomically). A reader resolves the symlink once and reads a
complete, unchanging folder; the previous versions are kept a while so a reader that resolved
just before the swap still finds its files.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lead_parity.pipeline.publish.columns import published_select
from lead_parity.pipeline.publish.comments import catalog_docs, comment_snapshot

SNAPSHOT_DB = "lead_parity.duckdb"
MANIFEST = "manifest.json"
VERSIONS_DIR = ".published_versions"
PUBLISHED_SCHEMAS = ("marts", "ops")
# Versions kept besides the current one: a reader that resolved the link just before a swap keeps
# reading its folder; older ones are deleted.
KEEP_PREVIOUS = 2
STALE_STAGING_S = 6 * 3600
# DuckDB's main header holds the storage version at byte 12; 64 is the format DuckDB 1.0-1.1 write
# and every DuckDB since 0.10 reads (what BI drivers bundle).
STORAGE_VERSION_OFFSET = 12
COMPATIBLE_STORAGE_VERSION = 64


class PublishError(RuntimeError):
    """The snapshot could not be published; the message says why."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _versions_root(published_dir: Path) -> Path:
    return published_dir.parent / VERSIONS_DIR


def _new_version_name() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def _warehouse_tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple]:
    """(schema, table) of every table and view of the published schemas in the warehouse."""
    placeholders = ", ".join("?" for _ in schemas)
    return con.execute(
        f"""
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = 'wh' and table_schema in ({placeholders})
        order by table_schema, table_name
        """,
        list(schemas),
    ).fetchall()


def _extra_tables(contract_dir: Path | None, extra: Mapping[str, Path] | None) -> dict[str, Path]:
    """`schema.table` -> Parquet file of tables published beside the warehouse's."""
    tables: dict[str, Path] = {}
    if contract_dir is not None and Path(contract_dir).is_dir():
        for file in sorted(Path(contract_dir).glob("*.parquet")):
            tables[f"contract.{file.stem}"] = file
    for name, file in (extra or {}).items():
        if name.count(".") != 1:
            raise PublishError(f"extra table {name!r}: name it schema.table")
        if not Path(file).is_file():
            raise PublishError(f"extra table {name!r}: {file} does not exist")
        tables[name] = Path(file)
    return tables


def _write_version(
    warehouse: Path,
    folder: Path,
    version: str,
    extra: dict[str, Path],
    metadata: Mapping[str, object],
) -> dict:
    snapshot = folder / SNAPSHOT_DB
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute(f"attach {_sql_string(warehouse)} as wh (read_only)")
        except duckdb.Error as exc:
            # A run holding the warehouse read-write is the usual cause: say so in one line.
            first_line = str(exc).strip().splitlines()[0]
            raise PublishError(f"cannot read the warehouse {warehouse}: {first_line}") from exc
        tables = _warehouse_tables(con, PUBLISHED_SCHEMAS)
        if not any(schema == "marts" for schema, _ in tables):
            raise PublishError(f"the warehouse {warehouse} has no marts tables; build it first")
        # No STORAGE_VERSION option: DuckDB's default keeps the file readable by DuckDB 1.0-1.4.
        con.execute(f"attach {_sql_string(snapshot)} as snap")
        sources = [(s, t, f"wh.{_quote(s)}.{_quote(t)}") for s, t in tables]
        for name, file in extra.items():
            schema, table = name.split(".")
            sources.append((schema, table, f"read_parquet({_sql_string(file)})"))
        row_counts: dict[str, int] = {}
        for schema in sorted({s for s, _, _ in sources}):
            con.execute(f"create schema if not exists snap.{_quote(schema)}")
            (folder / schema).mkdir(parents=True, exist_ok=True)
        for schema, table, source in sources:
            target = f"snap.{_quote(schema)}.{_quote(table)}"
            described = con.execute(f"describe select * from {source}").fetchall()
            columns = {row[0]: row[1] for row in described}
            con.execute(
                f"create table {target} as {published_select(schema, table, source, columns)}"
            )
            parquet = folder / schema / f"{table}.parquet"
            con.execute(f"copy {target} to {_sql_string(parquet)} (format parquet)")
            count = con.execute(f"select count(*) from {target}").fetchone()[0]
            row_counts[f"{schema}.{table}"] = count
        undocumented = comment_snapshot(con, "snap", catalog_docs(con, "wh"))
        storage = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = 'snap'"
        ).fetchone()[0]
        con.execute("detach snap")  # checkpoints: no .wal left beside the copy
        con.execute("detach wh")
    finally:
        con.close()
    # Readers must open it read-only; the mode makes a read-write open fail for non-root users.
    snapshot.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    manifest = {
        "version": version,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "warehouse": str(warehouse),
        "duckdb_version": duckdb.__version__,
        "storage_compatibility": storage,
        "tables": row_counts,
        # Published columns without a description (dbt YAML or publish/table_docs.yml).
        "undocumented": undocumented,
        **{k: v for k, v in metadata.items() if k not in {"version", "tables"}},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return manifest


def _sql_string(path: Path) -> str:
    # ATTACH and COPY ... TO take no prepared parameters; these are file paths we chose (never
    # data values), quoted as SQL string literals.
    return "'" + str(path).replace("'", "''") + "'"


def _swap_link(published_dir: Path, target: Path) -> None:
    if published_dir.exists() and not published_dir.is_symlink():
        if not published_dir.is_dir():
            raise PublishError(f"{published_dir} exists and is not a folder or symlink")
        # A real folder from another tool or an older layout: move it aside once (not atomic,
        # happens only on the first publish over it).
        shutil.move(str(published_dir), str(target.parent / f"legacy-{uuid.uuid4().hex[:8]}"))
    link_tmp = published_dir.with_name(f".{published_dir.name}.{uuid.uuid4().hex}.tmp")
    # Relative target: the data folder can be mounted elsewhere (a BI container) and still resolve.
    os.symlink(os.path.relpath(target, published_dir.parent), link_tmp)
    os.replace(link_tmp, published_dir)


def _prune(published_dir: Path, current: Path, keep: int) -> list[str]:
    root = _versions_root(published_dir)
    now = time.time()
    candidates, removed = [], []
    for path in root.iterdir():
        if not path.is_dir() or path.resolve() == current.resolve():
            continue
        if path.name.startswith(".staging-"):
            # Another publish may be writing it right now; only a stale one (a crash) goes.
            if now - path.stat().st_mtime > STALE_STAGING_S:
                _make_writable(path)
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
            continue
        candidates.append(path)
    candidates.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    for old in candidates[keep:]:
        _make_writable(old)
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old.name)
    return removed


def _make_writable(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            file.chmod(file.stat().st_mode | stat.S_IWUSR)


def publish_snapshot(
    warehouse: Path,
    published_dir: Path,
    *,
    contract_dir: Path | None = None,
    extra_tables: Mapping[str, Path] | None = None,
    metadata: Mapping[str, object] | None = None,
    keep_previous: int = KEEP_PREVIOUS,
) -> dict:
    """Copy the warehouse's marts and ops tables (plus contract and extra Parquet tables) to a
    new snapshot and atomically make it the `published_dir`; returns the manifest (with path)."""
    warehouse = Path(warehouse).resolve()
    published_dir = Path(published_dir).absolute()
    if not warehouse.is_file():
        raise PublishError(f"the warehouse {warehouse} does not exist; run the pipeline first")
    if contract_dir is None:
        default_contract = warehouse.parent / "landed" / "_contract"
        contract_dir = default_contract if default_contract.is_dir() else None
    extra = _extra_tables(contract_dir, extra_tables)
    root = _versions_root(published_dir)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".staging-{uuid.uuid4().hex}"
    staging.mkdir()
    start = time.perf_counter()
    try:
        version = root / _new_version_name()
        manifest = _write_version(warehouse, staging, version.name, extra, metadata or {})
        os.rename(staging, version)
    except BaseException:
        _make_writable(staging)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_link(published_dir, version)
    manifest["pruned"] = _prune(published_dir, version, keep_previous)
    manifest["path"] = str(version)
    manifest["published_dir"] = str(published_dir)
    manifest["seconds"] = round(time.perf_counter() - start, 3)
    return manifest


def resolve_snapshot(published_dir: Path) -> Path:
    """The complete version folder `published_dir` points at now (resolve once, then read it)."""
    published_dir = Path(published_dir)
    folder = published_dir.resolve()
    if not (folder / MANIFEST).is_file():
        raise PublishError(
            f"no published snapshot at {published_dir}; run `lead-parity run` to publish one"
        )
    return folder


def read_manifest(published_dir: Path) -> dict:
    return json.loads((resolve_snapshot(published_dir) / MANIFEST).read_text())


def parquet_path(published_dir: Path, table: str) -> Path:
    """Parquet file of `schema.table` in the current snapshot."""
    schema, _, name = table.partition(".")
    path = resolve_snapshot(published_dir) / schema / f"{name}.parquet"
    if not path.is_file():
        raise PublishError(f"table {table} is not in the published snapshot")
    return path


@contextmanager
def open_snapshot(published_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the current snapshot's DuckDB copy, closed on exit.

    Open it per query: holding it never blocks a publish (a publish writes a new version), but a
    short-lived connection picks up the newest snapshot.
    """
    con = duckdb.connect(str(resolve_snapshot(published_dir) / SNAPSHOT_DB), read_only=True)
    try:
        yield con
    finally:
        con.close()


def storage_version(db_file: Path) -> int:
    """The storage version number in a DuckDB file's main header."""
    with open(db_file, "rb") as handle:
        header = handle.read(STORAGE_VERSION_OFFSET + 8)
    if header[8:12] != b"DUCK":
        raise PublishError(f"{db_file} is not a DuckDB database file")
    return int.from_bytes(header[STORAGE_VERSION_OFFSET : STORAGE_VERSION_OFFSET + 8], "little")
