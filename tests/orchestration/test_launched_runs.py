"""Runs launched the way the UI and the daemon launch them: a real `dagster dev`, GraphQL
`launchRun`, a schedule tick, two runs on one warehouse. Every run here executes in Dagster's
spawned run worker, the process in which an import that exits (pyspark did) kills the run."""

from __future__ import annotations

import csv
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from dagster_dev import ROOT, DagsterDev

WORKED = ROOT.parent / "shared" / "examples" / "worked"
AS_OF = "2026-10-12T10:00:00Z"
LANE_TAG = "lead_parity/writer_lane"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    root = tmp_path_factory.mktemp("launched")
    input_dir = root / "input"
    shutil.copytree(WORKED, input_dir)
    warehouse = root / "data" / "warehouse.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAD_PARITY_")}
    # Deployment defaults through the environment; each test's run config overrides some.
    env |= {
        "LEAD_PARITY_INPUT_DIR": str(input_dir),
        "LEAD_PARITY_WAREHOUSE": str(warehouse),
        # Every minute, so a test sees a real tick; still off until the test starts it.
        "LEAD_PARITY_DAILY_CRON": "* * * * *",
    }
    server = DagsterDev(root / "dagster_home", env).start()
    try:
        yield {"server": server, "input": input_dir, "warehouse": warehouse, "root": root}
    finally:
        server.stop()


def _expected() -> dict[str, str]:
    with (WORKED / "expected.csv").open() as f:
        return {row["conversion_id"]: row["status"] for row in csv.DictReader(f)}


def _published_statuses(warehouse: Path) -> dict[str, str]:
    snapshot = warehouse.parent / "published" / "lead_parity.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute("select conversion_id, status from marts.fct_conversions").fetchall()
    return dict(rows)


def test_a_run_launched_through_graphql_succeeds_with_the_launchpads_config(dev, tmp_path):
    """The launchpad's config (here another warehouse) overrides the deployment's defaults."""
    server = dev["server"]
    other = tmp_path / "elsewhere" / "wh.duckdb"
    config = {"resources": {"lead_parity": {"config": {"as_of": AS_OF, "warehouse": str(other)}}}}
    run_id = server.launch("lead_parity_job", config)
    assert server.wait(run_id) == "SUCCESS", server.log_tail()
    assert _published_statuses(other) == _expected()
    assert not (dev["warehouse"].parent / "published").exists()
    run = server.query(
        "query R($id: ID!) { runOrError(runId: $id) { ... on Run { tags { key value } } } }",
        {"id": run_id},
    )["runOrError"]
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags[LANE_TAG] == str(dev["warehouse"].resolve())  # the code location's lane
    assert tags["lead_parity/as_of"] == AS_OF  # named at setup: the Runs page filters by it


def test_two_runs_on_one_warehouse_queue_instead_of_failing(dev):
    server = dev["server"]
    config = {"resources": {"lead_parity": {"config": {"as_of": AS_OF}}}}
    first = server.launch("lead_parity_job", config)
    second = server.launch("lead_parity_job", config)
    seen_queued_behind = False
    deadline = time.monotonic() + 600
    statuses = {}
    while time.monotonic() < deadline:
        statuses = {run: server.status(run) for run in (first, second)}
        running = [r for r, s in statuses.items() if s in ("STARTING", "STARTED")]
        assert len(running) <= 1, f"both runs write the warehouse at once: {statuses}"
        if running and "QUEUED" in statuses.values():
            seen_queued_behind = True
        if all(s in ("SUCCESS", "FAILURE", "CANCELED") for s in statuses.values()):
            break
        time.sleep(0.5)
    assert statuses == {first: "SUCCESS", second: "SUCCESS"}, server.log_tail()
    assert seen_queued_behind, "the second run never waited in the queue"
    assert _published_statuses(dev["warehouse"]) == _expected()


def test_a_schedule_tick_launches_a_run_that_succeeds(dev):
    server = dev["server"]
    name = "lead_parity_daily_schedule"
    server.schedule(name, start=True)
    try:
        deadline = time.monotonic() + 240
        runs = []
        while time.monotonic() < deadline and not runs:
            runs = server.runs({"dagster/schedule_name": name})
            time.sleep(2)
        assert runs, "the daemon made no tick within 240 s:\n" + server.log_tail()
    finally:
        server.schedule(name, start=False)
    run = runs[-1]
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["lead_parity/as_of"].endswith(":00Z")  # the tick's own minute
    assert server.wait(run["runId"]) == "SUCCESS", server.log_tail()
