"""The writer lane: one holder per warehouse folder, named to whoever waits, freed by death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lead_parity.pipeline.writer_lane import LaneBusy, WriterLane

HOLD = """
import sys, time
from lead_parity.pipeline.writer_lane import WriterLane
lane = WriterLane(sys.argv[1])
lane.acquire("run-holder-1234", wait_s=0)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
lane.release()
"""


def _holder(folder: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_refused_at_once_with_the_holder_named(tmp_path):
    holder = _holder(tmp_path, 30)
    try:
        started = time.monotonic()
        with pytest.raises(LaneBusy) as busy:
            WriterLane(tmp_path).acquire("run-second", wait_s=0)
        assert time.monotonic() - started < 2
        message = str(busy.value)
        assert "run-hold" in message and f"pid {holder.pid}" in message
        assert "\n" not in message
    finally:
        holder.kill()
        holder.wait()


def test_a_waiting_writer_gets_the_lane_when_the_holder_finishes(tmp_path):
    holder = _holder(tmp_path, 1.5)
    told: list[str] = []
    lane = WriterLane(tmp_path)
    lane.acquire("run-second", wait_s=60, log=told.append)
    try:
        assert holder.wait(5) == 0
        assert len(told) == 1 and "waiting in line" in told[0]
        assert lane.holder()["run_id"] == "run-second"
    finally:
        lane.release()


def test_a_killed_holder_never_leaves_the_lane_stuck(tmp_path):
    holder = _holder(tmp_path, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    lane = WriterLane(tmp_path)
    lane.acquire("after-the-kill", wait_s=5)
    lane.release()


def test_the_same_process_may_ask_again_and_the_outer_release_frees_it(tmp_path):
    outer, inner = WriterLane(tmp_path), WriterLane(tmp_path)
    outer.acquire("cli")
    inner.acquire("dagster-run")  # the run's resource inside the CLI process
    inner.release()
    with pytest.raises(subprocess.CalledProcessError):  # still held by this process
        subprocess.run(
            [sys.executable, "-c", HOLD, str(tmp_path), "0"], check=True, capture_output=True
        )
    outer.release()
    subprocess.run([sys.executable, "-c", HOLD, str(tmp_path), "0"], check=True)


def test_taking_the_lane_removes_scratch_a_killed_run_left(tmp_path):
    landed = tmp_path / "landed"
    (landed / ".segment.work-abc" / "parts").mkdir(parents=True)
    (landed / ".receipts.old-def").mkdir()
    (landed / "segment").mkdir()
    with WriterLane(tmp_path) as lane:
        lane.acquire("next-run")
    assert sorted(p.name for p in landed.iterdir()) == ["segment"]
