"""The published snapshot: complete, atomic, lock-free for readers, readable by older DuckDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from synthetic_marts import build_synthetic_warehouse

from lead_parity.pipeline.publish import (
    COMPATIBLE_STORAGE_VERSION,
    SNAPSHOT_DB,
    PublishError,
    open_snapshot,
    parquet_path,
    publish_snapshot,
    read_manifest,
    resolve_snapshot,
    storage_version,
)

OLD_DUCKDB = "1.1.3"
# The venv's uv (Makefile setup installs it there); PATH may not hold one.
UV = str(Path(sys.executable).with_name("uv"))


def _warehouse_counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'ops')"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
            for s, t in tables
        }
    finally:
        con.close()


def test_publish_copies_every_mart_and_ops_table_to_parquet_and_duckdb(synthetic_stack):
    published = synthetic_stack["published"]
    expected = _warehouse_counts(synthetic_stack["warehouse"])
    manifest = read_manifest(published)
    published_counts = {k: v for k, v in manifest["tables"].items() if not k.startswith("contract")}
    assert published_counts == expected
    assert expected["marts.fct_conversions"] == len(synthetic_stack["conversions"])
    for table, rows in manifest["tables"].items():
        assert pq.read_metadata(parquet_path(published, table)).num_rows == rows
    with open_snapshot(published) as con:
        for table, rows in manifest["tables"].items():
            schema, name = table.split(".")
            assert con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0] == rows
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    # The contract rides along (readers need thresholds and hop order); staging views do not.
    assert {"marts", "ops", "contract"} <= schemas
    assert "contract.settings" in manifest["tables"]
    assert not any("stg_" in t for t in manifest["tables"])


def test_published_is_a_symlink_to_a_complete_read_only_version(synthetic_stack):
    published = synthetic_stack["published"]
    assert published.is_symlink()
    assert not os.path.isabs(os.readlink(published))  # survives mounting the folder elsewhere
    folder = resolve_snapshot(published)
    assert (folder / "manifest.json").is_file()
    assert oct((folder / SNAPSHOT_DB).stat().st_mode & 0o777) == "0o444"
    assert not (folder / f"{SNAPSHOT_DB}.wal").exists()


def test_snapshot_keeps_the_storage_version_older_duckdb_reads(synthetic_stack):
    snapshot = resolve_snapshot(synthetic_stack["published"]) / SNAPSHOT_DB
    assert storage_version(snapshot) == COMPATIBLE_STORAGE_VERSION
    assert read_manifest(synthetic_stack["published"])["storage_compatibility"] == "v1.0.0+"


def _old_duckdb_python() -> Path:
    """A venv with DuckDB 1.1.3 (what BI drivers bundle), cached between test runs."""
    cache = Path(os.environ.get("LEAD_PARITY_TEST_CACHE", Path.home() / ".cache" / "lead-parity"))
    venv = cache / f"duckdb-{OLD_DUCKDB}"
    python = venv / "bin" / "python"
    check = [str(python), "-c", f"import duckdb; assert duckdb.__version__ == '{OLD_DUCKDB}'"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([UV, "venv", "--python", sys.executable, str(venv)], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run(
        [UV, "pip", "install", "--python", str(python), f"duckdb=={OLD_DUCKDB}"],
        check=True,
        capture_output=True,
    )
    subprocess.run(check, check=True)
    return python


OLD_READER = textwrap.dedent(
    """
    import json, sys, duckdb
    folder = sys.argv[1]
    tables = json.loads(sys.argv[2])
    con = duckdb.connect(folder + "/lead_parity.duckdb", read_only=True)
    from_db = {t: con.execute("select count(*) from " + t).fetchone()[0] for t in tables}
    from_parquet = {
        t: duckdb.sql(
            "select count(*) from read_parquet('" + folder + "/"
            + t.replace(".", "/") + ".parquet')"
        ).fetchone()[0]
        for t in tables
    }
    dropped = con.execute("select sum(value_usd) from marts.rpt_dropped_leads").fetchone()[0]
    print(json.dumps({"version": duckdb.__version__, "db": from_db, "parquet": from_parquet,
                      "dropped_value": dropped}))
    """
)


def test_duckdb_1_1_opens_the_snapshot_and_reads_the_parquet_files(synthetic_stack):
    python = _old_duckdb_python()
    folder = resolve_snapshot(synthetic_stack["published"])
    tables = read_manifest(synthetic_stack["published"])["tables"]
    result = subprocess.run(
        [str(python), "-c", OLD_READER, str(folder), json.dumps(list(tables))],
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(result.stdout)
    assert seen["version"] == OLD_DUCKDB
    assert seen["db"] == tables
    assert seen["parquet"] == tables
    conv = synthetic_stack["conversions"]
    assert seen["dropped_value"] == conv.loc[conv["status"] == "dropped", "value_usd"].sum()


def test_readers_keep_working_while_a_run_holds_the_warehouse(
    synthetic_stack, warehouse_lock_holder
):
    warehouse = synthetic_stack["warehouse"]
    warehouse_lock_holder(warehouse)
    # The problem the snapshot solves, measured: the live warehouse cannot even be read...
    with pytest.raises(duckdb.IOException):
        duckdb.connect(str(warehouse), read_only=True)
    # ...while every published file reads fine.
    published = synthetic_stack["published"]
    tables = read_manifest(published)["tables"]
    for table, rows in tables.items():
        assert pq.read_table(parquet_path(published, table)).num_rows == rows
        query = f"select count(*) from read_parquet('{parquet_path(published, table)}')"
        assert duckdb.sql(query).fetchone()[0] == rows
    with open_snapshot(published) as con:
        assert con.execute("select count(*) from marts.rpt_dropped_leads").fetchone()[0] > 0
    # A publish attempted meanwhile fails with one clear line and leaves the snapshot intact.
    with pytest.raises(PublishError, match="cannot read the warehouse"):
        publish_snapshot(warehouse, published)
    assert read_manifest(published)["tables"] == tables


def test_a_reader_holding_the_snapshot_open_does_not_block_the_next_publish(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    build_synthetic_warehouse(warehouse, conversions=200, seed=1)
    published = tmp_path / "published"
    publish_snapshot(warehouse, published)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, duckdb; c = duckdb.connect(sys.argv[1], "
         "read_only=True); print('open', flush=True); sys.stdin.read()",
         str(published / SNAPSHOT_DB)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        with open_snapshot(published) as held:
            build_synthetic_warehouse(warehouse, conversions=300, seed=2)
            publish_snapshot(warehouse, published)
            # The held connection keeps its consistent old view; new readers see the new one.
            assert held.execute("select count(*) from marts.fct_conversions").fetchone()[0] == 200
        with open_snapshot(published) as con:
            assert con.execute("select count(*) from marts.fct_conversions").fetchone()[0] == 300
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_concurrent_readers_never_see_half_a_publish(tmp_path):
    small, large = tmp_path / "a" / "warehouse.duckdb", tmp_path / "b" / "warehouse.duckdb"
    build_synthetic_warehouse(small, conversions=150, seed=3)
    build_synthetic_warehouse(large, conversions=450, seed=4)
    published = tmp_path / "published"
    publish_snapshot(small, published)
    stop = threading.Event()
    failures: list[str] = []
    seen_versions: set[str] = set()
    reads = 0

    def read_loop() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                folder = resolve_snapshot(published)
                manifest = json.loads((folder / "manifest.json").read_text())
                for table, rows in manifest["tables"].items():
                    schema, name = table.split(".")
                    got = pq.read_metadata(folder / schema / f"{name}.parquet").num_rows
                    if got != rows:
                        failures.append(f"{manifest['version']} {table}: {got} != {rows}")
                # The unresolved path must always open too (no moment without a file).
                pq.read_metadata(published / "marts" / "fct_conversions.parquet")
                seen_versions.add(manifest["version"])
                reads += 1
            except Exception as exc:  # any failure of a reader is a test failure
                failures.append(repr(exc))

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        for i in range(6):
            publish_snapshot(large if i % 2 == 0 else small, published)
    finally:
        stop.set()
        reader.join(timeout=60)
    assert failures == []
    assert reads > 0
    assert len(seen_versions) >= 2


def test_old_versions_are_pruned_but_the_last_ones_kept(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    build_synthetic_warehouse(warehouse, conversions=100)
    published = tmp_path / "published"
    versions = [publish_snapshot(warehouse, published)["version"] for _ in range(5)]
    kept = sorted(p.name for p in (tmp_path / ".published_versions").iterdir())
    assert kept == sorted(versions[-3:])
    assert read_manifest(published)["version"] == versions[-1]


def test_publishing_the_same_warehouse_twice_gives_the_same_tables(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    build_synthetic_warehouse(warehouse, conversions=300)
    published = tmp_path / "published"
    publish_snapshot(warehouse, published)
    first = {
        t: pq.read_table(parquet_path(published, t)) for t in read_manifest(published)["tables"]
    }
    publish_snapshot(warehouse, published)
    for table, data in first.items():
        assert pq.read_table(parquet_path(published, table)).equals(data), table


def test_an_unbuilt_warehouse_is_refused_with_a_clear_error(tmp_path):
    with pytest.raises(PublishError, match="does not exist"):
        publish_snapshot(tmp_path / "missing.duckdb", tmp_path / "published")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(PublishError, match="no marts tables"):
        publish_snapshot(empty, tmp_path / "published")
    assert not (tmp_path / "published").exists()
    assert [p.name for p in (tmp_path / ".published_versions").iterdir()] == []
    with pytest.raises(PublishError, match="no published snapshot"):
        read_manifest(tmp_path / "published")


def test_a_publish_in_progress_is_never_pruned_but_a_crashed_one_is(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    build_synthetic_warehouse(warehouse, conversions=100)
    published = tmp_path / "published"
    publish_snapshot(warehouse, published)
    versions = tmp_path / ".published_versions"
    in_progress, crashed = versions / ".staging-inprogress", versions / ".staging-crashed"
    in_progress.mkdir()
    crashed.mkdir()
    (crashed / "half.parquet").write_bytes(b"PAR1")
    long_ago = time.time() - 7 * 3600
    os.utime(crashed, (long_ago, long_ago))
    for _ in range(4):
        publish_snapshot(warehouse, published)
    assert in_progress.is_dir()
    assert not crashed.exists()
