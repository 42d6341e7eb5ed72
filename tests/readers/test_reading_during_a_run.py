"""Readers of the published snapshot keep working while a real pipeline build runs."""

from __future__ import annotations

import fcntl
import os
import struct
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lead_parity.pipeline.build import build_warehouse
from lead_parity.pipeline.publish import open_snapshot, publish_snapshot, read_manifest
from lead_parity.pipeline.timeparse import parse_as_of

pytestmark = pytest.mark.slow


def held_for_writing(database: Path) -> bool:
    """Whether another process holds DuckDB's write lock on `database`.

    Asks with fcntl F_GETLK instead of opening a read-only connection: a probe that takes a read
    lock, even briefly, can make the build's own read-write open fail when they coincide.
    """
    # struct flock on Linux x86_64: l_type, l_whence, (pad), l_start, l_len, l_pid, (pad)
    query = struct.pack("hhxxxxqqixxxx", fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
    fd = os.open(database, os.O_RDONLY)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
    finally:
        os.close(fd)
    return struct.unpack("hhxxxxqqixxxx", answer)[0] != fcntl.F_UNLCK


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
        if held_for_writing(warehouse):
            reads_while_locked += 1  # dbt held the warehouse: the case the snapshot exists for
        time.sleep(0.2)
    run.join()
    assert errors == []
    assert reads > 0
    assert reads_while_locked > 0
    # Same input, same marts: the next publish carries the same row counts (idempotent run).
    after = publish_snapshot(warehouse, published)
    assert after["tables"] == before["tables"]
