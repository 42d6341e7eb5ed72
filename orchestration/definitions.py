"""Assembles the lead-parity code location; each area exposes its own definitions."""

import dagster as dg

from orchestration.defs.incidents import incident_assets, incident_jobs, incident_sensors
from orchestration.defs.ingest.call_log import connector_http_calls
from orchestration.defs.ingest.contract import routing_contract
from orchestration.defs.ingest.files import landed_assets
from orchestration.defs.ingest.live import live_assets, live_resources
from orchestration.defs.jobs import jobs, schedules
from orchestration.defs.loggers import loggers
from orchestration.defs.publish import publish_assets
from orchestration.defs.quality import quality_assets, quality_checks, telemetry_checks
from orchestration.defs.queue import queue_assets, queue_jobs, queue_schedules
from orchestration.defs.remediation import (
    remediation_assets,
    remediation_checks,
    remediation_jobs,
    remediation_sensors,
)
from orchestration.defs.resources import lead_parity_config
from orchestration.defs.reviews import review_jobs, review_schedules
from orchestration.defs.transform.assets import dbt_resource, lead_parity_dbt_models

defs = dg.Definitions(
    assets=[
        *live_assets,
        *landed_assets,
        routing_contract,
        connector_http_calls,
        lead_parity_dbt_models,
        *quality_assets,
        *incident_assets,
        *queue_assets,
        *remediation_assets,
        *publish_assets,
    ],
    asset_checks=[*quality_checks, *telemetry_checks, *remediation_checks],
    sensors=[*incident_sensors, *remediation_sensors],
    jobs=[*jobs, *incident_jobs, *queue_jobs, *remediation_jobs, *review_jobs],
    schedules=[*schedules, *queue_schedules, *review_schedules],
    resources={"lead_parity": lead_parity_config, "dbt": dbt_resource, **live_resources},
    loggers=loggers,
    executor=dg.in_process_executor,
)
