"""Incident asset, the jobs that deliver and escalate, and the sensors that launch them (plain
logic in lead_parity.pipeline.incidents). The jobs reach Definitions through their sensors."""

from orchestration.defs.incidents.assets import incident_assets, incidents
from orchestration.defs.incidents.jobs import (
    incident_delivery_job,
    incident_escalation_job,
    incident_jobs,
)
from orchestration.defs.incidents.sensors import (
    incident_escalation_sensor,
    incident_outbox_sensor,
    incident_sensors,
)

__all__ = [
    "incident_assets",
    "incident_delivery_job",
    "incident_escalation_job",
    "incident_escalation_sensor",
    "incident_jobs",
    "incident_outbox_sensor",
    "incident_sensors",
    "incidents",
]
