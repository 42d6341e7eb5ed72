"""Fixtures for the publish, report and dashboard tests: warehouses, snapshots, a lock holder."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from synthetic_marts import build_synthetic_warehouse

from lead_parity.pipeline.publish import publish_snapshot

SIMULATED_LEADS, SIMULATED_DAYS, SIMULATED_SEED = 400, 30, 11


@pytest.fixture(scope="session")
def synthetic_stack(tmp_path_factory) -> dict:
    """A synthetic warehouse (SPEC section 6 tables) and its published snapshot."""
    root = tmp_path_factory.mktemp("synthetic")
    warehouse = root / "warehouse.duckdb"
    conversions = build_synthetic_warehouse(warehouse, operating=True)
    published = root / "published"
    manifest = publish_snapshot(warehouse, published)
    return {
        "root": root,
        "warehouse": warehouse,
        "published": published,
        "manifest": manifest,
        "conversions": conversions,
    }


@pytest.fixture(scope="session")
def simulated_stack(tmp_path_factory) -> dict:
    """A simulated stack built by the real pipeline (ingest + dbt) and published."""
    from lead_parity.pipeline.build import build_warehouse
    from lead_parity.pipeline.timeparse import parse_as_of
    from lead_parity.simulator import simulate

    root = tmp_path_factory.mktemp("simulated")
    summary = simulate(
        root / "input", leads=SIMULATED_LEADS, days=SIMULATED_DAYS, seed=SIMULATED_SEED
    )
    warehouse = root / "data" / "warehouse.duckdb"
    build_warehouse(root / "input", warehouse, as_of=parse_as_of(summary.as_of))
    published = root / "data" / "published"
    manifest = publish_snapshot(warehouse, published)
    return {
        "root": root,
        "warehouse": warehouse,
        "published": published,
        "manifest": manifest,
        "summary": summary,
    }


HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])  # read-write: the exclusive lock a pipeline run holds
    con.execute("create table if not exists main._held as select 1 as x")
    print("locked", flush=True)
    sys.stdin.read()  # hold until the test closes stdin
    con.close()
    """
)


@pytest.fixture
def warehouse_lock_holder() -> Iterator:
    """Start a separate process that holds a DuckDB file read-write until the test ends."""
    processes: list[subprocess.Popen] = []

    def hold(db_file: Path) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(db_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout.readline().strip() == "locked"
        return process

    yield hold
    for process in processes:
        process.stdin.close()
        process.wait(timeout=30)
