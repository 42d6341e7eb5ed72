"""Remediation: the in-run confirmation asset, the send job and the sensor that launches it
(plain logic in lead_parity.pipeline.remediation)."""

from orchestration.defs.remediation.assets import (
    REMEDIATION_KEY,
    remediation_assets,
    remediation_checks,
)
from orchestration.defs.remediation.jobs import remediation_job
from orchestration.defs.remediation.sensors import remediation_sensor

remediation_jobs = [remediation_job]
remediation_sensors = [remediation_sensor]

__all__ = [
    "REMEDIATION_KEY",
    "remediation_assets",
    "remediation_checks",
    "remediation_jobs",
    "remediation_sensors",
]
