"""Incidents from SLO breaches: rules, lifecycle + outbox store, sinks, delivery (no Dagster)."""

from lead_parity.pipeline.incidents.deliver import (
    DeliveryReport,
    IncidentRunReport,
    deliver_after_run,
    deliver_pending,
    evaluate,
    evaluate_in_run,
    mirror_to_warehouse,
    policy_of,
    run_url_for,
    sensor_pass,
)
from lead_parity.pipeline.incidents.rules import TAGS, EvaluationRow, Finding, judge
from lead_parity.pipeline.incidents.sinks import (
    SINK_SETTINGS,
    SinkConfigError,
    configured_sinks,
    sign,
    sign_timestamped,
    sink_settings,
    verify_signature,
    verify_timestamped,
)
from lead_parity.pipeline.incidents.store import IncidentStateError, IncidentStore, Policy

__all__ = [
    "SINK_SETTINGS",
    "TAGS",
    "DeliveryReport",
    "EvaluationRow",
    "Finding",
    "IncidentRunReport",
    "IncidentStateError",
    "IncidentStore",
    "Policy",
    "SinkConfigError",
    "configured_sinks",
    "deliver_after_run",
    "deliver_pending",
    "evaluate",
    "evaluate_in_run",
    "judge",
    "mirror_to_warehouse",
    "run_url_for",
    "sensor_pass",
    "policy_of",
    "sign",
    "sign_timestamped",
    "sink_settings",
    "verify_signature",
    "verify_timestamped",
]
