"""Two `lead-parity run`s on one warehouse: the second refuses at once (--wait 0) naming the
running one, or waits in line; neither ever publishes the other's input."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

WORKED = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "worked"
AS_OF = "2026-10-12T10:00:00Z"
CLI = str(Path(sys.executable).with_name("lead-parity"))


def _run(input_dir: Path, warehouse: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [CLI, "run", "--input", str(input_dir), "--warehouse", str(warehouse), "--as-of", AS_OF,
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("LEAD_PARITY_")},
    )  # fmt: skip


def _lane_is_held(folder: Path) -> bool:
    lock = folder / ".writer_lane.lock"
    if not lock.exists():
        return False
    with lock.open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def _conversion_ids(warehouse: Path) -> set[str]:
    snapshot = warehouse.parent / "published" / "lead_parity.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute("select conversion_id from marts.fct_conversions").fetchall()
    return {r[0] for r in rows}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_second_run_refuses_or_waits_and_never_publishes_the_others_input(tmp_path):
    input_a = tmp_path / "a"
    shutil.copytree(WORKED, input_a)
    # Input B: the same stack without Segment's file holding m1 (fewer conversions).
    input_b = tmp_path / "b"
    shutil.copytree(WORKED, input_b)
    segment = sorted((input_b / "segment").glob("*.jsonl"))
    kept = [ln for ln in segment[0].read_text().splitlines() if '"m1"' not in ln]
    segment[0].write_text("\n".join(kept) + "\n")
    warehouse = tmp_path / "data" / "warehouse.duckdb"

    first = _run(input_a, warehouse)
    deadline = time.monotonic() + 60
    while not _lane_is_held(warehouse.parent):
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.1)

    refused = _run(input_b, warehouse, "--wait", "0")
    out, err = refused.communicate(timeout=120)
    assert refused.returncode == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "is being written by run" in lines[0], err
    assert f"pid {first.pid}" in lines[0]

    queued = _run(input_b, warehouse)  # waits in line, then runs on its own input
    out_a, err_a = first.communicate(timeout=400)
    assert first.returncode == 0, err_a[-3000:]
    assert "conversions: 14" in out_a
    out_b, err_b = queued.communicate(timeout=400)
    assert queued.returncode == 0, err_b[-3000:]
    assert "waiting in line" in out_b
    assert "conversions: 13" in out_b
    assert _conversion_ids(warehouse) == {f"m{i}" for i in range(2, 15)}
