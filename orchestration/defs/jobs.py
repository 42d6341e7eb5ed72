"""Jobs and schedules: the file pipeline and the live (HTTP) pipeline, daily."""

import dagster as dg

from orchestration.defs.ingest.live import GROUP as LIVE_GROUP
from orchestration.defs.ingest.live import daily_live_schedule, live_pipeline_job

PIPELINE_JOB_NAME = "lead_parity_job"

# Everything but the live connectors: the file-mode pipeline that `lead-parity run` executes.
lead_parity_job = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(LIVE_GROUP),
    description="Ingest the input folder, build every dbt model, run the checks, publish.",
)

daily_schedule = dg.ScheduleDefinition(
    name="lead_parity_daily_schedule",
    job=lead_parity_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
)

jobs = [lead_parity_job, live_pipeline_job]
schedules = [daily_schedule, daily_live_schedule]
