"""Jobs and the daily schedules: the file pipeline, and the same pipeline fed over HTTP.

Every job carries this code location's writer-lane tag, which dagster.yaml's run queue limits to
one run at a time, so a schedule tick, a sensor's run and a launch from the UI queue behind each
other instead of fighting over the DuckDB file. The schedules are off unless a deployment turns
them on (LEAD_PARITY_SCHEDULES); their times differ so they never start together.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from orchestration.defs.ingest.live import GROUP as LIVE_GROUP
from orchestration.defs.quality import quality_checks, telemetry_checks
from orchestration.defs.resources import AS_OF_TAG, DEPLOYMENT_ENV, writer_lane_tags
from orchestration.defs.transform.assets import lead_parity_dbt_models

PIPELINE_JOB_NAME = "lead_parity_job"
BUILD_JOB_NAME = "lead_parity_build_job"
LIVE_JOB_NAME = "live_pipeline_job"

DAILY_SCHEDULE_NAME = "lead_parity_daily_schedule"
LIVE_SCHEDULE_NAME = "daily_live_schedule"
# name -> (job, the cron variable, default cron). 06:00 for files exported overnight; the live
# fetch at 06:30 so that, if both are on, the second queues behind the first's lane.
SCHEDULES = {
    DAILY_SCHEDULE_NAME: (PIPELINE_JOB_NAME, "LEAD_PARITY_DAILY_CRON", "0 6 * * *"),
    LIVE_SCHEDULE_NAME: (LIVE_JOB_NAME, "LEAD_PARITY_LIVE_CRON", "30 6 * * *"),
}

LANE_TAGS = writer_lane_tags()

# Everything but the live connectors: the file-mode pipeline that `lead-parity run` executes.
lead_parity_job = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(LIVE_GROUP),
    description="Ingest the input folder, build every dbt model, run the checks, publish.",
    tags=LANE_TAGS,
)

# The same assets, with the HTTP fetch of HubSpot and Zendesk in front (the fetched pages land in
# the input folder, where the file ingestion assets pick them up): one graph, no copy of it.
live_pipeline_job = dg.define_asset_job(
    LIVE_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Fetch HubSpot and Zendesk over HTTP into the input folder, then the pipeline.",
    tags=LANE_TAGS,
)

# Ingestion and every dbt model with its dbt tests, on whichever engine the run config names:
# what `lead-parity run --engine spark` executes. The GX SLO checks, incidents and the published
# snapshot read the DuckDB warehouse file, so they stay in lead_parity_job.
lead_parity_build_job = dg.define_asset_job(
    BUILD_JOB_NAME,
    selection=(
        dg.AssetSelection.assets(lead_parity_dbt_models).upstream()
        - dg.AssetSelection.groups(LIVE_GROUP)
        - dg.AssetSelection.checks(*quality_checks, *telemetry_checks)
    ),
    description="Ingest the input folder and build every dbt model (DuckDB or Spark).",
    tags=LANE_TAGS,
)

JOBS = {job.name: job for job in (lead_parity_job, live_pipeline_job, lead_parity_build_job)}


def enabled_schedules(env: Mapping[str, str] = DEPLOYMENT_ENV) -> set[str]:
    """Schedule names a deployment turned on: LEAD_PARITY_SCHEDULES, comma-separated or `all`."""
    names = {n.strip() for n in env.get("LEAD_PARITY_SCHEDULES", "").split(",") if n.strip()}
    return set(SCHEDULES) if "all" in names else names & set(SCHEDULES)


def build_schedule(name: str, env: Mapping[str, str] = DEPLOYMENT_ENV) -> dg.ScheduleDefinition:
    job_name, cron_variable, default_cron = SCHEDULES[name]

    def run_as_of_the_tick(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        # The tick's own time is the run's as_of: a late or retried tick judges the same day.
        as_of = context.scheduled_execution_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        return dg.RunRequest(
            run_key=f"{name}:{as_of}",
            run_config={"resources": {"lead_parity": {"config": {"as_of": as_of}}}},
            tags={AS_OF_TAG: as_of},
        )

    status = (
        dg.DefaultScheduleStatus.RUNNING
        if name in enabled_schedules(env)
        else dg.DefaultScheduleStatus.STOPPED
    )
    return dg.ScheduleDefinition(
        name=name,
        job=JOBS[job_name],
        cron_schedule=env.get(cron_variable, "").strip() or default_cron,
        execution_timezone="UTC",
        execution_fn=run_as_of_the_tick,
        default_status=status,
        description=f"Runs {job_name} with as_of = the tick's time. Off unless "
        f"LEAD_PARITY_SCHEDULES names it; cron from {cron_variable} (default {default_cron}).",
    )


jobs = list(JOBS.values())
schedules = [build_schedule(name) for name in SCHEDULES]
