"""Readers of the published snapshot keep working while a real pipeline build runs."""

from __future__ import annotations

import threading
import time

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib.build import build_warehouse
from orchestration.lib.publish import open_snapshot, publish_snapshot, read_manifest
from orchestration.lib.timeparse import parse_as_of

pytestmark = pytest.mark.slow


def test_parquet_and_snapshot_read_during_a_dbt_build(simulated_stack):
    published, warehouse = simulated_stack["published"], simulated_stack["warehouse"]
    before = read_manifest(published)
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            build_warehouse(
                simulated_stack["root"] / "input",
                warehouse,
                as_of=parse_as_of(simulated_stack["summary"].as_of),
            )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    run = threading.Thread(target=rebuild)
    run.start()
    reads = reads_while_locked = 0
    while run.is_alive():
        folder = published.resolve()
        for table, rows in before["tables"].items():
            schema, name = table.split(".")
            assert pq.read_metadata(folder / schema / f"{name}.parquet").num_rows == rows
        with open_snapshot(published) as con:
            count = con.execute("select count(*) from marts.fct_conversions").fetchone()[0]
            assert count == before["tables"]["marts.fct_conversions"]
        reads += 1
        try:
            duckdb.connect(str(warehouse), read_only=True).close()
        except duckdb.IOException:
            reads_while_locked += 1  # dbt held the warehouse: the case the snapshot exists for
        time.sleep(0.2)
    run.join()
    assert errors == []
    assert reads > 0
    assert reads_while_locked > 0
    # Same input, same marts: the next publish carries the same row counts (idempotent run).
    after = publish_snapshot(warehouse, published)
    assert after["tables"] == before["tables"]
