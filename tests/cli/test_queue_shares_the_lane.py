"""The intra-day review_queue_job and the daily run share one warehouse without lock fights: the
queue run that starts while `lead-parity run` writes waits in line for the writer lane, then
succeeds and refreshes ops.review_queue at its own as_of."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

WORKED = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "worked"
CLI = str(Path(sys.executable).with_name("lead-parity"))

QUEUE_RUN = textwrap.dedent(
    """
    import sys
    from orchestration.definitions import defs
    from orchestration.defs.queue.schedules import QUEUE_JOB_NAME
    from orchestration.defs.resources import WRITER_LANE_TAG, lane_key

    input_dir, warehouse, as_of = sys.argv[1:4]
    config = {"input_dir": input_dir, "warehouse": warehouse, "as_of": as_of, "lane_wait_s": 900}
    result = defs.resolve_job_def(QUEUE_JOB_NAME).execute_in_process(
        run_config={"resources": {"lead_parity": {"config": config}}},
        tags={WRITER_LANE_TAG: lane_key(warehouse)},
        raise_on_error=False,
    )
    print("QUEUE_RUN", "SUCCESS" if result.success else "FAILURE", flush=True)
    """
)


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


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_queue_run_during_the_daily_run_waits_for_the_lane_then_succeeds(tmp_path):
    input_dir = tmp_path / "input"
    shutil.copytree(WORKED, input_dir)
    warehouse = tmp_path / "wh" / "lp.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAD_PARITY_")}
    daily = subprocess.Popen(
        [CLI, "run", "--input", str(input_dir), "--warehouse", str(warehouse),
         "--as-of", "2026-10-12T10:00:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not _lane_is_held(warehouse.parent):
        assert daily.poll() is None, daily.stdout.read()
        assert time.monotonic() < deadline, "the daily run never took the writer lane"
        time.sleep(0.2)
    queue = subprocess.Popen(
        [sys.executable, "-c", QUEUE_RUN, str(input_dir), str(warehouse), "2026-10-12T10:05:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    daily_out, _ = daily.communicate(timeout=900)
    queue_out, _ = queue.communicate(timeout=900)
    assert daily.returncode == 0, daily_out[-3000:]
    assert "QUEUE_RUN SUCCESS" in queue_out, queue_out[-3000:]
    assert "waiting in line" in queue_out  # it queued behind the daily run, it did not fail
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select conversion_id, kind, escalated_at from ops.review_queue order by 1"
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("m3", "dead_letter"), ("m8", "enrichment_fallback")]
    # Escalated by the daily run (10:00) and kept by the queue run at 10:05.
    assert {r[2].isoformat() for r in rows} == {"2026-10-12T10:00:00"}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_queue_job_alone_builds_a_fresh_warehouse_and_opens_items(tmp_path):
    """What a schedule tick does when it is the first run on a warehouse (dbt's tests on
    fct_conversions refer to the other marts, so the job builds every model)."""
    input_dir = tmp_path / "input"
    shutil.copytree(WORKED, input_dir)
    warehouse = tmp_path / "wh" / "lp.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAD_PARITY_")}
    queue = subprocess.run(
        [sys.executable, "-c", QUEUE_RUN, str(input_dir), str(warehouse), "2026-10-12T10:00:00Z"],
        capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[2],
        timeout=800, check=False,
    )  # fmt: skip
    assert "QUEUE_RUN SUCCESS" in queue.stdout, (queue.stdout + queue.stderr)[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select conversion_id, kind from ops.review_queue order by 1").fetchall()
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert rows == [("m3", "dead_letter"), ("m8", "enrichment_fallback")]
    assert "incidents" not in tables  # the daily run's part, not the tick's
