"""The `incidents` asset in a real materialization; the sensors on a real Dagster instance launch
the delivery and escalation jobs (they never deliver in a tick); the jobs run for real."""

from pathlib import Path

import dagster as dg
import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.incidents import IncidentStore, policy_of
from orchestration.defs.incidents import (
    incident_assets,
    incident_delivery_job,
    incident_escalation_job,
    incident_escalation_sensor,
    incident_outbox_sensor,
    incidents,
)
from orchestration.defs.resources import LeadParityConfig

from .helpers import (
    Receiver,
    at,
    dropped_at_crm,
    parity_row,
    read_incidents,
    write_dropped,
    write_evaluation,
)


@pytest.fixture
def sinks(monkeypatch):
    pd, slack = Receiver().start(), Receiver(default_status=200).start()
    monkeypatch.setenv("LEAD_PARITY_PAGERDUTY_ROUTING_KEY", "rk-test-0000")
    monkeypatch.setenv("LEAD_PARITY_PAGERDUTY_URL", pd.url("/v2/enqueue"))
    monkeypatch.setenv("LEAD_PARITY_SLACK_WEBHOOK_URL", slack.url("/services/T/B/dg"))
    monkeypatch.setenv("LEAD_PARITY_SINK_BACKOFF_FACTOR", "0.05")
    monkeypatch.delenv("LEAD_PARITY_WEBHOOK_URL", raising=False)
    yield pd, slack
    pd.stop()
    slack.stop()


def _config(tmp_path: Path) -> LeadParityConfig:
    return LeadParityConfig(input_dir=str(tmp_path / "in"), warehouse=str(tmp_path / "w.duckdb"))


def _tick(sensor, instance, config, cursor=None):
    """One sensor tick as the daemon runs it (resources opened and closed around it)."""
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"lead_parity": config}
    ) as ctx:
        return sensor(ctx), ctx.cursor


def _launch(job, request: dg.RunRequest, instance, config) -> dg.ExecuteInProcessResult:
    """Run what the sensor asked for, as the daemon would (same run config, same run key)."""
    result = job.execute_in_process(
        run_config=request.run_config,
        instance=instance,
        resources={"lead_parity": config},
        tags={**request.tags, "dagster/run_key": request.run_key},
    )
    assert result.success
    return result


def test_incidents_asset_is_exposed_with_its_mart_dependencies():
    assert incident_assets == [incidents]
    deps = {k.to_user_string() for k in incidents.asset_deps[dg.AssetKey("incidents")]}
    assert {
        "fct_hop_parity_daily",
        "fct_hop_parity_daily_totals",
        "rpt_dropped_leads",
        "slo_evaluations",
    } <= deps


def test_the_sensor_launches_one_delivery_run_that_sends_once_and_a_later_tick_skips(
    tmp_path, sinks
):
    pd, _ = sinks
    config = _config(tmp_path)
    warehouse = Path(config.warehouse)
    write_dropped(warehouse, dropped_at_crm(12))
    write_evaluation(warehouse, [parity_row(at(12), dropped=24)])
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(incident_assets, instance=instance, resources={"lead_parity": config})
    assert result.success
    meta = result.asset_materializations_for_node("incidents")[0].metadata
    assert meta["opened"].value == 1 and meta["open"].value == 1
    assert [r["status"] for r in read_incidents(warehouse)] == ["open"]
    assert pd.requests == []  # the run only records; delivery is a job of its own

    request, cursor = _tick(incident_outbox_sensor, instance, config)
    assert isinstance(request, dg.RunRequest) and request.run_key.startswith("outbox-")
    assert pd.requests == []  # the tick only asks for a run
    run = _launch(incident_delivery_job, request, instance, config)
    assert [r.json()["event_action"] for r in pd.requests] == ["trigger"]
    assert pd.requests[0].json()["links"][0]["href"].endswith(f"/runs/{result.run_id}")
    assert run.output_for_node("deliver_incident_outbox") is None

    again, cursor = _tick(incident_outbox_sensor, instance, config, cursor)
    assert isinstance(again, dg.SkipReason) and "nothing due" in again.skip_message

    write_evaluation(warehouse, [parity_row(at(13), dropped=0)])
    assert dg.materialize(
        incident_assets, instance=instance, resources={"lead_parity": config}
    ).success
    request, cursor = _tick(incident_outbox_sensor, instance, config, cursor)
    _launch(incident_delivery_job, request, instance, config)
    assert [r.json()["event_action"] for r in pd.requests] == ["trigger", "resolve"]


def test_a_sink_down_for_a_while_gets_its_event_from_a_later_run_once(tmp_path, sinks, monkeypatch):
    monkeypatch.setenv("LEAD_PARITY_SINK_OUTBOX_RETRY", "0")
    pd, _ = sinks
    config = _config(tmp_path)
    warehouse = Path(config.warehouse)
    write_dropped(warehouse, dropped_at_crm(3))
    write_evaluation(warehouse, [parity_row(at(12), dropped=24)])
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(
        incident_assets, instance=instance, resources={"lead_parity": config}
    ).success
    pd.script = [(503, {}, 0.0)] * 3  # the whole first run fails (3 tries per run)
    first, cursor = _tick(incident_outbox_sensor, instance, config)
    _launch(incident_delivery_job, first, instance, config)
    assert [r.status for r in pd.requests] == [503, 503, 503]
    # No new materialization: the retry is due, so a new state of the outbox launches a new run.
    retry, cursor = _tick(incident_outbox_sensor, instance, config, cursor)
    assert isinstance(retry, dg.RunRequest) and retry.run_key != first.run_key
    _launch(incident_delivery_job, retry, instance, config)
    assert [r.status for r in pd.requests] == [503, 503, 503, 202]
    done, _ = _tick(incident_outbox_sensor, instance, config, cursor)
    assert isinstance(done, dg.SkipReason)


def test_an_unacknowledged_page_is_escalated_once_to_the_escalation_owner(tmp_path, sinks):
    pd, slack = sinks
    config = _config(tmp_path)
    warehouse = Path(config.warehouse)
    write_evaluation(warehouse, [parity_row(at(12), dropped=40)])  # critical: paged at at(12)
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(
        incident_assets, instance=instance, resources={"lead_parity": config}
    ).success
    store = IncidentStore.in_history(tmp_path / "history")
    policy = policy_of(load_contract())
    # Time is driven through as_of: 29 minutes after the page nothing is due, 30 minutes is.
    assert store.due_escalations(at(12).replace(minute=29), policy) == []
    assert len(store.due_escalations(at(12).replace(minute=30), policy)) == 1

    request, _ = _tick(incident_escalation_sensor, instance, config)  # wall clock: long past
    assert isinstance(request, dg.RunRequest) and request.run_key.startswith("escalate-")
    _launch(incident_escalation_job, request, instance, config)
    (inc,) = store.incidents()
    assert inc["escalated_at"] is not None and inc["escalation_owner"] == "cro"
    assert [e["action"] for e in store.history(inc["incident_id"])][-1] == "escalated"
    again, _ = _tick(incident_escalation_sensor, instance, config)
    assert isinstance(again, dg.SkipReason)  # escalated once

    outbox, _ = _tick(incident_outbox_sensor, instance, config)
    _launch(incident_delivery_job, outbox, instance, config)
    texts = [r.json()["text"] for r in slack.requests]
    assert any("escalated to cro" in t for t in texts)
    # The pager carries the incident already; the escalation owner hears in chat.
    assert [r.json()["event_action"] for r in pd.requests] == ["trigger"]


def test_an_acknowledged_critical_incident_is_never_escalated(tmp_path):
    config = _config(tmp_path)
    write_evaluation(Path(config.warehouse), [parity_row(at(12), dropped=40)])
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(
        incident_assets, instance=instance, resources={"lead_parity": config}
    ).success
    store = IncidentStore.in_history(tmp_path / "history")
    (inc,) = store.incidents()
    store.acknowledge(inc["incident_id"], by="alice", note=None, sinks=[], at=at(12, 11))
    assert store.due_escalations(at(20), policy_of(load_contract())) == []
    skipped, _ = _tick(incident_escalation_sensor, instance, config)
    assert isinstance(skipped, dg.SkipReason)


def test_no_second_delivery_run_is_requested_while_one_is_in_progress(tmp_path, sinks):
    config = _config(tmp_path)
    write_evaluation(Path(config.warehouse), [parity_row(at(12), dropped=24)])
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(
        incident_assets, instance=instance, resources={"lead_parity": config}
    ).success
    running = instance.create_run_for_job(
        incident_delivery_job, run_config={}, status=dg.DagsterRunStatus.STARTED
    )
    skipped, _ = _tick(incident_outbox_sensor, instance, config)
    assert isinstance(skipped, dg.SkipReason) and "in progress" in skipped.skip_message
    instance.report_run_failed(running)
    request, _ = _tick(incident_outbox_sensor, instance, config)
    assert isinstance(request, dg.RunRequest)


def test_without_a_configured_sink_no_delivery_run_is_launched(tmp_path, monkeypatch):
    for name in ("PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL", "WEBHOOK_URL"):
        monkeypatch.delenv(f"LEAD_PARITY_{name}", raising=False)
    config = _config(tmp_path)
    write_evaluation(Path(config.warehouse), [parity_row(at(12), dropped=24)])
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(
        incident_assets, instance=instance, resources={"lead_parity": config}
    ).success
    tick, _ = _tick(incident_outbox_sensor, instance, config)
    assert isinstance(tick, dg.SkipReason)  # recorded in ops.incidents; nothing to send
    assert [r["status"] for r in read_incidents(Path(config.warehouse))] == ["open"]
