"""Put dropped leads back (docs/remediation.md): plan, approve, send once, confirm, audit."""

from lead_parity.pipeline.remediation.confirm import ConfirmReport, confirm_in_run
from lead_parity.pipeline.remediation.planner import Plan, PlanError, plan_from_snapshot
from lead_parity.pipeline.remediation.send import BatchReport, send_batch
from lead_parity.pipeline.remediation.store import (
    STATUSES,
    STORE_FILE,
    Proposal,
    RemediationError,
    RemediationStore,
    action_id_for,
)

__all__ = [
    "STATUSES",
    "STORE_FILE",
    "BatchReport",
    "ConfirmReport",
    "Plan",
    "PlanError",
    "Proposal",
    "RemediationError",
    "RemediationStore",
    "action_id_for",
    "confirm_in_run",
    "plan_from_snapshot",
    "send_batch",
]
