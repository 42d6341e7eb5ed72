"""The real Dagster daemon: after a materialization of the marts its sensor launches the
delivery job, whose run (a subprocess the daemon starts) delivers the incident once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import Receiver

ROOT = Path(__file__).resolve().parents[3]
LOCATION = Path(__file__).with_name("daemon_location.py")
ROUTING_KEY = "rk-daemon-SECRET-777"


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_daemon_sensor_delivers_the_incident_of_a_breach_once(tmp_path):
    pd = Receiver().start()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        f"  - python_file:\n      relative_path: {LOCATION}\n"
        f"      working_directory: {tmp_path}\n      location_name: incidents_test\n"
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "LEAD_PARITY_INPUT_DIR": str(tmp_path / "in"),
        "LEAD_PARITY_WAREHOUSE": str(tmp_path / "data" / "lead_parity.duckdb"),
        "LEAD_PARITY_CONTRACT": "",
        "LEAD_PARITY_AS_OF": "2026-10-12T10:00:00Z",
        "LEAD_PARITY_ENGINE": "duckdb",
        "LEAD_PARITY_PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
        "LEAD_PARITY_PAGERDUTY_URL": pd.url("/v2/enqueue"),
        "LEAD_PARITY_SINK_BACKOFF_FACTOR": "0.1",
    }
    for name in ("LEAD_PARITY_SLACK_WEBHOOK_URL", "LEAD_PARITY_WEBHOOK_URL"):
        env.pop(name, None)
    (tmp_path / "data").mkdir()
    # Create the instance's SQLite storage once, up front: a daemon and a CLI that both create it
    # at the same moment race on the schema migration and the daemon dies.
    subprocess.run(
        [sys.executable, "-c", "import dagster as dg; dg.DagsterInstance.get().dispose()"],
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=120,
    )
    daemon_log = (tmp_path / "daemon.log").open("wb")
    # Run from tmp_path: Dagster loads `.env` from the working directory, and the project's
    # .env (paths for `dagster dev`) would override this test's paths.
    daemon = subprocess.Popen(
        [_bin("dagster-daemon"), "run", "-w", str(workspace)],
        cwd=tmp_path,
        env=env,
        stdout=daemon_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        materialize = subprocess.run(
            [
                _bin("dagster"),
                "asset",
                "materialize",
                "--select",
                "*",
                "-f",
                str(LOCATION),
                "--working-directory",
                str(tmp_path),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert materialize.returncode == 0, materialize.stderr[-3000:]
        # The daemon's sensor may already have ticked during the run, so the delivery can be in
        # before we look; that the run step itself never sends is asserted in test_dagster.py.

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not pd.requests:
            assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()[-3000:]
            time.sleep(0.2)  # a finer poll sees the delivery sooner (the sensor ticks every 1 s)
        assert pd.requests, (
            "the sensor's delivery run did not deliver within 120 s:\n"
            + (tmp_path / "daemon.log").read_text()[-3000:]
        )
        body = pd.requests[0].json()
        assert body["event_action"] == "trigger" and body["routing_key"] == ROUTING_KEY
        assert body["dedup_key"] == "lead-parity/parity/crm|all|all/2026-10-10"
        assert body["payload"]["custom_details"]["sample_conversion_ids"][:2] == ["d0", "d1"]
        time.sleep(5)  # several more ticks: the cursor and the outbox keep them silent
        assert len(pd.requests) == 1
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(10)
        daemon_log.close()
        pd.stop()
    assert ROUTING_KEY not in (tmp_path / "daemon.log").read_text()
