"""Jobs and schedules: the file pipeline and the live (HTTP) pipeline, daily."""

import dagster as dg

from orchestration.defs.ingest.live import GROUP as LIVE_GROUP
from orchestration.defs.ingest.live import daily_live_schedule, live_pipeline_job
from orchestration.defs.quality import quality_checks
from orchestration.defs.transform.assets import lead_parity_dbt_models

PIPELINE_JOB_NAME = "lead_parity_job"
BUILD_JOB_NAME = "lead_parity_build_job"

# Everything but the live connectors: the file-mode pipeline that `lead-parity run` executes.
lead_parity_job = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(LIVE_GROUP),
    description="Ingest the input folder, build every dbt model, run the checks, publish.",
)

# Ingestion and every dbt model with its dbt tests, on whichever engine LEAD_PARITY_ENGINE names:
# what `lead-parity run --engine spark` executes. The GX SLO checks, incidents and the published
# snapshot read the DuckDB warehouse file, so they stay in lead_parity_job.
lead_parity_build_job = dg.define_asset_job(
    BUILD_JOB_NAME,
    selection=(
        dg.AssetSelection.assets(lead_parity_dbt_models).upstream()
        - dg.AssetSelection.groups(LIVE_GROUP)
        - dg.AssetSelection.checks(*quality_checks)
    ),
    description="Ingest the input folder and build every dbt model (DuckDB or Spark).",
)

daily_schedule = dg.ScheduleDefinition(
    name="lead_parity_daily_schedule",
    job=lead_parity_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
)

jobs = [lead_parity_job, lead_parity_build_job, live_pipeline_job]
schedules = [daily_schedule, daily_live_schedule]
