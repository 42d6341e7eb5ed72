"""A claim made while another process holds the warehouse's writer lane and a DuckDB write
connection is neither blocked nor lost: `queue list` shows it at once, the next run mirrors it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.review_queue import item_id_for, refresh_in_run

from .stack import cli, review_queue, t, write_stack
from .test_lifecycle import DEAD, HIGH_INTENT, RECEIPTS

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import duckdb
    from lead_parity.pipeline.writer_lane import WriterLane

    warehouse = Path(sys.argv[1])
    lane = WriterLane(warehouse.parent)
    lane.acquire("a-running-pipeline")
    con = duckdb.connect(str(warehouse))
    con.execute("begin")
    con.execute("create or replace table main.run_in_progress as select 1 as x")
    print("held", flush=True)
    sys.stdin.readline()
    con.execute("commit")
    con.close()
    lane.release()
    """
)


@pytest.mark.timeout(120)
def test_a_claim_during_a_run_survives_into_the_next_runs_review_queue(tmp_path):
    wh = tmp_path / "wh.duckdb"
    write_stack(wh, [HIGH_INTENT, DEAD], RECEIPTS)
    refresh_in_run(wh, tmp_path / "history", load_contract(), t(10, 10, 40), env={})
    item_id = item_id_for("dead_letter", "dl1")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(wh)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException):  # the warehouse really is taken
            duckdb.connect(str(wh), read_only=True)
        started = time.monotonic()
        claimed = cli("queue", "claim", item_id, "--by", "ann", "--warehouse", str(wh),
                      timeout=20)  # fmt: skip
        took = time.monotonic() - started
        assert claimed.returncode == 0, claimed.stderr
        assert took < 10, f"the claim waited {took:.1f} s for the running job"
        listed = cli("queue", "list", "--warehouse", str(wh))
        row = next(ln for ln in listed.stdout.splitlines() if ln.startswith(item_id))
        assert " claimed " in row and " ann " in row
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    assert review_queue(wh)[("dead_letter", "dl1")]["state"] == "open"  # not mirrored yet
    refresh_in_run(wh, tmp_path / "history", load_contract(), t(10, 10, 45), env={})
    row = review_queue(wh)[("dead_letter", "dl1")]
    assert (row["state"], row["claimed_by"]) == ("claimed", "ann")
