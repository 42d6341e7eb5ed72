"""The intra-day cadence: a job that refreshes the review queue, every 5 minutes.

The job is ingestion of the input folder, every dbt model with its tests, and the review_queue
asset. Every model, not only those fct_conversions needs: dbt's tests on fct_conversions refer to
the other marts (a fresh warehouse would fail them), and the warehouse records one as_of for all
marts, so a subset at a newer as_of would leave the others stale behind it. The GX SLO checks,
incidents and the published snapshot stay with the daily run. It carries the same writer-lane
tag as every other job, so its runs queue behind the daily run instead of fighting for the
DuckDB file. Off unless LEAD_PARITY_SCHEDULES names it (or says `all`); cron from
LEAD_PARITY_QUEUE_CRON.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from orchestration.defs.ingest.live import GROUP as LIVE_GROUP
from orchestration.defs.quality import quality_checks
from orchestration.defs.queue.assets import REVIEW_QUEUE_KEY
from orchestration.defs.resources import AS_OF_TAG, DEPLOYMENT_ENV, writer_lane_tags
from orchestration.defs.transform.assets import lead_parity_dbt_models

QUEUE_JOB_NAME = "review_queue_job"
QUEUE_SCHEDULE_NAME = "review_queue_schedule"
CRON_VARIABLE = "LEAD_PARITY_QUEUE_CRON"
DEFAULT_CRON = "*/5 * * * *"

review_queue_job = dg.define_asset_job(
    QUEUE_JOB_NAME,
    selection=(
        (
            dg.AssetSelection.assets(REVIEW_QUEUE_KEY).upstream()
            | dg.AssetSelection.assets(lead_parity_dbt_models).upstream()
        )
        - dg.AssetSelection.groups(LIVE_GROUP, "incidents", "quality")
        - dg.AssetSelection.checks(*quality_checks)
    ),
    description="Ingest new input, build the dbt models, refresh the review queue.",
    tags=writer_lane_tags(),
)


def queue_schedule_enabled(env: Mapping[str, str] = DEPLOYMENT_ENV) -> bool:
    names = {n.strip() for n in env.get("LEAD_PARITY_SCHEDULES", "").split(",") if n.strip()}
    return "all" in names or QUEUE_SCHEDULE_NAME in names


def build_queue_schedule(env: Mapping[str, str] = DEPLOYMENT_ENV) -> dg.ScheduleDefinition:
    def run_as_of_the_tick(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        # The tick's own time is the run's as_of: a retried tick sees the same clocks.
        as_of = context.scheduled_execution_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        return dg.RunRequest(
            run_key=f"{QUEUE_SCHEDULE_NAME}:{as_of}",
            run_config={"resources": {"lead_parity": {"config": {"as_of": as_of}}}},
            tags={AS_OF_TAG: as_of},
        )

    return dg.ScheduleDefinition(
        name=QUEUE_SCHEDULE_NAME,
        job=review_queue_job,
        cron_schedule=env.get(CRON_VARIABLE, "").strip() or DEFAULT_CRON,
        execution_timezone="UTC",
        execution_fn=run_as_of_the_tick,
        default_status=dg.DefaultScheduleStatus.RUNNING
        if queue_schedule_enabled(env)
        else dg.DefaultScheduleStatus.STOPPED,
        description=f"Runs {QUEUE_JOB_NAME} with as_of = the tick's time. Off unless "
        f"LEAD_PARITY_SCHEDULES names it; cron from {CRON_VARIABLE} (default {DEFAULT_CRON}).",
    )


queue_jobs = [review_queue_job]
queue_schedules = [build_queue_schedule()]
