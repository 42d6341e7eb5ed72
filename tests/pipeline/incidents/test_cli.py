"""`lead-parity incidents list|show|ack|resolve` as users run it: the real CLI in a subprocess,
a real DuckDB warehouse, PagerDuty and Slack receivers on 127.0.0.1."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.incidents import IncidentStore, deliver_after_run, evaluate_in_run

from .helpers import FAST, Receiver, at, dropped_at_crm, parity_row, write_dropped, write_evaluation

CLI = str(Path(sys.executable).with_name("lead-parity"))


@pytest.fixture
def sinks():
    pd, slack = Receiver().start(), Receiver(default_status=200).start()
    yield pd, slack
    pd.stop()
    slack.stop()


@pytest.fixture
def env(sinks) -> dict[str, str]:
    pd, slack = sinks
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEAD_PARITY_")}
    return {
        **clean,
        "LEAD_PARITY_PAGERDUTY_ROUTING_KEY": "rk-cli-test",
        "LEAD_PARITY_PAGERDUTY_URL": pd.url("/v2/enqueue"),
        "LEAD_PARITY_SLACK_WEBHOOK_URL": slack.url("/services/T/B/cli"),
        "LEAD_PARITY_SINK_BACKOFF_FACTOR": "0.05",
    }


def run_day(warehouse: Path, evaluated_at, dropped: int, env: dict[str, str], **kw):
    """What one `lead-parity run` does for incidents: evaluate in the run, deliver after it."""
    write_evaluation(warehouse, [parity_row(evaluated_at, dropped=dropped, **kw)])
    evaluate_in_run(warehouse, warehouse.parent / "history", load_contract(), run_url=None, env=env)
    return deliver_after_run(warehouse, load_contract(), env=env, settings=FAST)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "incidents", *args], env=env, capture_output=True, text=True, timeout=120
    )


def ops(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_ack_is_recorded_stops_renotification_and_survives_reruns_and_a_full_refresh(
    tmp_path, env, sinks
):
    pd, slack = sinks
    warehouse = tmp_path / "data" / "lead_parity.duckdb"
    warehouse.parent.mkdir()
    write_dropped(warehouse, dropped_at_crm(12))
    run_day(warehouse, at(12), 12, env)  # a warning: Slack only
    listed = cli(env, "list", "--warehouse", str(warehouse), "--json")
    assert listed.returncode == 0, listed.stderr
    (inc,) = json.loads(listed.stdout)
    incident_id = inc["incident_id"]
    assert inc["status"] == "open" and inc["notified"] == "chat" and pd.requests == []

    acked = cli(
        env, "ack", incident_id, "--by", "alice", "--note", "CRM sync restarted",
        "--warehouse", str(warehouse),
    )  # fmt: skip
    assert acked.returncode == 0, acked.stderr
    assert f"{incident_id} acknowledged by alice" in acked.stdout
    text = cli(env, "list", "--warehouse", str(warehouse)).stdout
    assert incident_id in text and "acknowledged" in text  # shown at once, before any run
    assert "acknowledged by alice" in slack.requests[-1].json()["text"]
    again = cli(env, "ack", incident_id, "--by", "bob", "--warehouse", str(warehouse))
    assert again.returncode == 0 and "already acknowledged (by alice)" in again.stdout

    # The next day breaches at the critical level: extended, but nobody is paged again.
    before = len(slack.requests)
    run_day(warehouse, at(13), 40, env)
    assert pd.requests == [] and len(slack.requests) == before
    (status, severity, days) = ops(
        warehouse, "select status, severity, days_breached from ops.incidents"
    )[0]
    assert (status, severity, days) == ("acknowledged", "critical", 2)
    history = ops(
        warehouse,
        "select actor, action, note from ops.incident_events where action = 'acknowledged'",
    )
    assert history == [("alice", "acknowledged", "CRM sync restarted")]

    # --full-refresh rebuilds the warehouse from scratch: the state comes back from the store.
    warehouse.unlink()
    write_dropped(warehouse, dropped_at_crm(12))
    run_day(warehouse, at(13), 40, env)
    assert ops(warehouse, "select status from ops.incidents") == [("acknowledged",)]
    assert ("alice", "acknowledged") in ops(
        warehouse, "select actor, action from ops.incident_events"
    )


def test_resolve_by_hand_reopens_only_on_a_new_breached_day(tmp_path, env, sinks):
    pd, _ = sinks
    warehouse = tmp_path / "lead_parity.duckdb"
    run_day(warehouse, at(12), 40, env)  # critical: paged
    (inc,) = IncidentStore.in_history(tmp_path / "history").incidents()
    assert [r.json()["event_action"] for r in pd.requests] == ["trigger"]
    done = cli(env, "resolve", inc["incident_id"], "--by", "bob", "--warehouse", str(warehouse))
    assert done.returncode == 0, done.stderr
    assert [r.json()["event_action"] for r in pd.requests] == ["trigger", "resolve"]
    listed = cli(env, "list", "--warehouse", str(warehouse)).stdout
    assert inc["incident_id"] in listed and "resolved" in listed  # every incident by default
    live = cli(env, "list", "--status", "live", "--warehouse", str(warehouse)).stdout
    assert inc["incident_id"] not in live and "no live incidents" in live
    run_day(warehouse, at(12, 20), 40, env)  # the same day again: not a new breach
    assert len(IncidentStore.in_history(tmp_path / "history").incidents()) == 1
    run_day(warehouse, at(13), 40, env)  # the next final day breaches: a new episode
    rows = IncidentStore.in_history(tmp_path / "history").incidents()
    assert [r["status"] for r in rows] == ["resolved", "open"] and rows[0]["resolved_by"] == "bob"
    assert [r.json()["event_action"] for r in pd.requests] == ["trigger", "resolve", "trigger"]
    shown = cli(env, "show", rows[0]["incident_id"], "--warehouse", str(warehouse))
    assert shown.returncode == 0 and "bob" in shown.stdout and "resolved" in shown.stdout


def test_unknown_ids_missing_names_and_acking_a_resolved_incident_fail_in_one_line(tmp_path, env):
    warehouse = tmp_path / "lead_parity.duckdb"
    run_day(warehouse, at(12), 40, {})
    (inc,) = IncidentStore.in_history(tmp_path / "history").incidents()
    unknown = cli(env, "ack", "inc-nope", "--by", "alice", "--warehouse", str(warehouse))
    assert unknown.returncode == 2 and "no incident 'inc-nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    nameless = cli(env, "ack", inc["incident_id"], "--warehouse", str(warehouse))
    assert nameless.returncode == 2 and "--by" in nameless.stderr
    cli(env, "resolve", inc["incident_id"], "--by", "bob", "--warehouse", str(warehouse))
    late = cli(env, "ack", inc["incident_id"], "--by", "alice", "--warehouse", str(warehouse))
    assert late.returncode == 2 and "is resolved" in late.stderr
    nowhere = cli(env, "list", "--warehouse", str(tmp_path / "other" / "w.duckdb"))
    assert nowhere.returncode == 2 and "no incidents recorded" in nowhere.stderr
