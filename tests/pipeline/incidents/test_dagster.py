"""The `incidents` asset in a real materialization and the sensor on a real Dagster instance."""

from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.incidents import incident_assets, incident_delivery_sensor, incidents
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
def pd(monkeypatch):
    receiver = Receiver().start()
    monkeypatch.setenv("LEAD_PARITY_PAGERDUTY_ROUTING_KEY", "rk-test-0000")
    monkeypatch.setenv("LEAD_PARITY_PAGERDUTY_URL", receiver.url("/v2/enqueue"))
    monkeypatch.setenv("LEAD_PARITY_SINK_BACKOFF_FACTOR", "0.05")
    for name in ("LEAD_PARITY_SLACK_WEBHOOK_URL", "LEAD_PARITY_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    yield receiver
    receiver.stop()


def _config(tmp_path: Path) -> LeadParityConfig:
    return LeadParityConfig(input_dir=str(tmp_path / "in"), warehouse=str(tmp_path / "w.duckdb"))


def _tick(instance, config, cursor=None):
    """One sensor tick as the daemon runs it (resources opened and closed around it)."""
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"lead_parity": config}
    ) as ctx:
        return incident_delivery_sensor(ctx), ctx.cursor


def test_incidents_asset_is_exposed_with_its_mart_dependencies():
    assert incident_assets == [incidents]
    deps = {k.to_user_string() for k in incidents.asset_deps[dg.AssetKey("incidents")]}
    assert {"fct_hop_parity_daily", "rpt_dropped_leads", "slo_evaluations"} <= deps


def test_materialize_then_sensor_delivers_once_and_a_later_tick_sends_nothing(tmp_path, pd):
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
    assert pd.requests == []  # the run only records; delivery is the CLI's or the sensor's

    tick, cursor = _tick(instance, config)
    assert isinstance(tick, dg.SkipReason) and "1 open" in tick.skip_message
    assert [r.json()["event_action"] for r in pd.requests] == ["trigger"]
    assert pd.requests[0].json()["links"][0]["href"].endswith(f"/runs/{result.run_id}")

    again, _ = _tick(instance, config, cursor)
    assert "no new materialization" in again.skip_message and len(pd.requests) == 1

    write_evaluation(warehouse, [parity_row(at(13), dropped=0)])
    assert dg.materialize(
        incident_assets, instance=instance, resources={"lead_parity": config}
    ).success
    _tick(instance, config, cursor)
    assert [r.json()["event_action"] for r in pd.requests] == ["trigger", "resolve"]


def test_between_runs_the_sensor_retries_what_is_due_in_the_outbox(tmp_path, pd, monkeypatch):
    monkeypatch.setenv("LEAD_PARITY_SINK_OUTBOX_RETRY", "0")
    config = _config(tmp_path)
    warehouse = Path(config.warehouse)
    write_dropped(warehouse, dropped_at_crm(3))
    write_evaluation(warehouse, [parity_row(at(12), dropped=24)])
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(
        incident_assets, instance=instance, resources={"lead_parity": config}
    ).success
    pd.script = [(503, {}, 0.0)] * 3  # the whole first tick fails (3 tries per tick)
    _, cursor = _tick(instance, config)
    assert [r.status for r in pd.requests] == [503, 503, 503]
    # No new materialization: the tick retries the due event and sends it once.
    tick, _ = _tick(instance, config, cursor)
    assert "delivered 1" in tick.skip_message
    assert [r.status for r in pd.requests] == [503, 503, 503, 202]
