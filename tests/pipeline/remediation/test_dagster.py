"""remediation_sensor on a real Dagster instance launches remediation_job for an approved batch,
once per state; the job sends to the fake vendors; nothing approved, nothing launched."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from lead_parity.pipeline.remediation import Proposal, RemediationStore
from orchestration.definitions import defs
from orchestration.defs.remediation import remediation_jobs, remediation_sensors
from orchestration.defs.remediation.jobs import REMEDIATION_TAGS, remediation_job
from orchestration.defs.remediation.sensors import remediation_sensor
from orchestration.defs.resources import SIDE_LANE_TAG, LeadParityConfig

from .fake_writes import FakeWrites

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _tick(instance, config):
    with dg.build_sensor_context(instance=instance, resources={"lead_parity": config}) as ctx:
        result = remediation_sensor(ctx)
    return result


def test_an_approved_batch_is_launched_once_and_sent(tmp_path, monkeypatch):
    assert remediation_job in remediation_jobs and remediation_sensor in remediation_sensors
    assert remediation_sensor.name in {s.name for s in defs.sensors}
    assert remediation_job.name in {j.name for j in defs.jobs}
    assert REMEDIATION_TAGS == {SIDE_LANE_TAG: "remediation"}  # beside the writer lane
    config = LeadParityConfig(input_dir=str(tmp_path / "in"), warehouse=str(tmp_path / "w.duckdb"))
    instance = dg.DagsterInstance.ephemeral()
    assert isinstance(_tick(instance, config), dg.SkipReason)  # nothing planned yet

    store = RemediationStore.in_history(tmp_path / "history")
    props = [
        Proposal("c1", "L1", "crm", "no_trace", "demo_request", "hubspot_upsert", "hubspot",
                 "one@example.com"),
        Proposal("q1", "Q1", "support", "silent_drop", "question", "zendesk_ticket", "zendesk",
                 "two@example.com"),
    ]  # fmt: skip
    [batch] = store.record_plan(props, by="ops", at=AT, snapshot_as_of=None, max_per_batch=100)
    skip = _tick(instance, config)
    assert isinstance(skip, dg.SkipReason) and "no approved" in skip.skip_message

    store.approve(batch, "ana", at=AT, max_per_day=100)
    request = _tick(instance, config)
    assert isinstance(request, dg.RunRequest)
    assert request.run_config["ops"]["send_remediation_batch"]["config"]["batch_id"] == batch
    with FakeWrites() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        result = remediation_job.execute_in_process(
            run_config=request.run_config,
            instance=instance,
            resources={"lead_parity": config},
            tags={**request.tags, "dagster/run_key": request.run_key},
        )
        assert result.success
        assert len(fake.tickets) == 1 and len(fake.contacts) == 1
    assert {a["status"] for a in store.actions()} == {"sent"}
    done = _tick(instance, config)
    assert isinstance(done, dg.SkipReason)
