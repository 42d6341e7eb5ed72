"""`remediation_sensor` (every 30 s): launches `remediation_job` for a batch with approved,
unsent actions. The run key is the batch, its actions' state (approved ids and their tries) and
the UTC day, so one approval launches one run, a batch a run left half-sent launches one more,
and actions the daily cap held are launched again the next day; while a
remediation run is queued or in progress, no other is requested. A tick reads only the SQLite
store, never the warehouse or a vendor.
"""

from datetime import UTC, datetime

import dagster as dg

from lead_parity.pipeline.remediation import RemediationStore
from lead_parity.pipeline.remediation.store import STORE_FILE
from orchestration.defs.in_flight import run_in_flight
from orchestration.defs.remediation.jobs import remediation_job
from orchestration.defs.resources import LeadParityConfig


def build_remediation_sensor(
    *,
    name: str = "remediation_sensor",
    minimum_interval_seconds: int = 30,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        job=remediation_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Launches remediation_job for a batch someone approved with "
        "`lead-parity remediate approve`.",
    )
    def _sensor(context: dg.SensorEvaluationContext, lead_parity: LeadParityConfig):
        history = lead_parity.paths().history
        if not (history / STORE_FILE).is_file():
            return dg.SkipReason("no remediation planned yet")
        if run_in_flight(context, remediation_job.name):
            return dg.SkipReason("a remediation run is queued or in progress")
        store = RemediationStore.in_history(history)
        batches = store.approved_batches()
        if not batches:
            return dg.SkipReason("no approved action waiting")
        batch = batches[0]  # one at a time, oldest first: the day's cap is shared
        # The UTC day is part of the key: actions the day's cap held get a run the next day.
        day = datetime.now(UTC).strftime("%Y%m%d")
        return dg.RunRequest(
            run_key=f"remediate-{batch}-{store.state_of(batch)}-{day}",
            run_config={"ops": {"send_remediation_batch": {"config": {"batch_id": batch}}}},
            tags={"lead_parity/remediation_batch": batch},
        )

    return _sensor


remediation_sensor = build_remediation_sensor()
