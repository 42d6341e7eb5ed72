"""Incident asset and delivery sensor (plain logic in lead_parity.pipeline.incidents)."""

from orchestration.defs.incidents.assets import incident_assets, incidents
from orchestration.defs.incidents.sensors import incident_delivery_sensor, incident_sensors

__all__ = ["incident_assets", "incident_delivery_sensor", "incident_sensors", "incidents"]
