"""Sensors that launch the incident jobs; a tick only reads and decides, it never delivers.

- `incident_outbox_sensor` (every 30 s): when an outbox event is due (a first delivery or a
  retry), requests one `incident_delivery_job` run; after a new materialization of the
  incidents, the published snapshot or the parity mart, that run first applies an evaluation
  the run did not (from the snapshot). The run key is the outbox's state, so one state launches
  one run; while a delivery run is queued or in progress, no other is requested.
- `incident_escalation_sensor` (every 2 min): when a paged critical incident has gone
  `escalation.ack_within` without an acknowledgement, requests one `incident_escalation_job` run
  keyed by those incidents, so each escalation is launched once.

Both read only the SQLite incident store and Dagster's event log, never the warehouse.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from lead_parity.pipeline.incidents import IncidentStore, policy_of
from lead_parity.pipeline.incidents.sinks import configured_sink_names
from lead_parity.pipeline.incidents.store import STORE_FILE
from orchestration.defs.in_flight import run_in_flight
from orchestration.defs.incidents.jobs import incident_delivery_job, incident_escalation_job
from orchestration.defs.resources import DEPLOYMENT_ENV, LeadParityConfig

MONITORED_KEYS = (
    dg.AssetKey("incidents"),
    dg.AssetKey("published_snapshot"),
    dg.AssetKey("fct_hop_parity_daily"),
)


def _newest(
    context: dg.SensorEvaluationContext, keys: Sequence[dg.AssetKey], cursor: dict[str, int]
) -> tuple[dict[str, int], str | None]:
    """Newest unseen materialization storage id per key, and the run of the newest of them."""
    newest: dict[str, int] = {}
    run_id, best = None, -1
    for key in keys:
        name = key.to_user_string()
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=cursor.get(name)),
            limit=1,
            ascending=False,
        ).records
        if records:
            newest[name] = records[0].storage_id
            if records[0].storage_id > best:
                best, run_id = records[0].storage_id, records[0].event_log_entry.run_id
    return newest, run_id


def _store(lead_parity: LeadParityConfig) -> IncidentStore | None:
    history = lead_parity.paths().history
    return IncidentStore.in_history(history) if (history / STORE_FILE).is_file() else None


def build_incident_outbox_sensor(
    *,
    name: str = "incident_outbox_sensor",
    monitored_keys: Sequence[dg.AssetKey] = MONITORED_KEYS,
    minimum_interval_seconds: int = 30,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        job=incident_delivery_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Launches incident_delivery_job when an incident event is due for "
        "delivery (first try or retry).",
    )
    def _sensor(context: dg.SensorEvaluationContext, lead_parity: LeadParityConfig):
        cursor = json.loads(context.cursor) if context.cursor else {}
        if run_in_flight(context, incident_delivery_job.name):
            return dg.SkipReason("a delivery run is queued or in progress")
        newest, run_id = _newest(context, monitored_keys, cursor)
        context.update_cursor(json.dumps({**cursor, **newest}, sort_keys=True))
        store = _store(lead_parity)
        sinks = configured_sink_names(DEPLOYMENT_ENV)
        due = store.pending_due(sinks) if store else 0
        if not due:
            # The run's own incidents step has applied its evaluation; a run that would deliver
            # nothing is not worth a process (nor the warehouse's writer lane it would wait for).
            return dg.SkipReason("nothing due in the outbox")
        state = store.outbox_state(sinks)
        seen = hashlib.sha256(json.dumps(newest, sort_keys=True).encode()).hexdigest()[:12]
        return dg.RunRequest(
            run_key=f"outbox-{state}-{seen if newest else 'due'}",
            run_config={
                "ops": {
                    "deliver_incident_outbox": {
                        "config": {"evaluate": bool(newest), "source_run_id": run_id or ""}
                    }
                }
            },
            tags={"lead_parity/due_events": str(due)},
        )

    return _sensor


def build_incident_escalation_sensor(
    *,
    name: str = "incident_escalation_sensor",
    minimum_interval_seconds: int = 120,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        job=incident_escalation_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Launches incident_escalation_job when a critical incident was not "
        "acknowledged within escalation.ack_within.",
    )
    def _sensor(context: dg.SensorEvaluationContext, lead_parity: LeadParityConfig):
        store = _store(lead_parity)
        if store is None:
            return dg.SkipReason("no incident recorded yet")
        now = datetime.now(UTC).replace(microsecond=0)
        due = store.due_escalations(now, policy_of(lead_parity.contract()))
        if not due:
            return dg.SkipReason("no unacknowledged critical incident past ack_within")
        key = hashlib.sha256(",".join(due).encode()).hexdigest()[:16]
        return dg.RunRequest(
            run_key=f"escalate-{key}",
            run_config={
                "ops": {"escalate_unacknowledged_incidents": {"config": {"as_of": now.isoformat()}}}
            },
            tags={"lead_parity/incidents": ",".join(due)[:200]},
        )

    return _sensor


incident_outbox_sensor = build_incident_outbox_sensor()
incident_escalation_sensor = build_incident_escalation_sensor()
incident_sensors = [incident_outbox_sensor, incident_escalation_sensor]
