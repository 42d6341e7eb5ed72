"""Jobs and schedules: the file pipeline end to end, daily."""

import dagster as dg

PIPELINE_JOB_NAME = "lead_parity_job"

# Everything but the live connectors: the file-mode pipeline that `lead-parity run` executes.
lead_parity_job = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("live"),
    description="Ingest the input folder, build every dbt model, run the checks, publish.",
)

daily_schedule = dg.ScheduleDefinition(
    name="lead_parity_daily_schedule",
    job=lead_parity_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
)

jobs = [lead_parity_job]
schedules = [daily_schedule]
