"""The playbook's cadence: a weekly reconciliation and a monthly root-cause review.

Each job renders its review from the published snapshot into `<data>/reports/<kind>/` (kept by
date) and queues one chat message linking it in the incident outbox, which
incident_outbox_sensor delivers. They read the snapshot only, so they take the side lane, never
the writer lane: a review never waits for a pipeline run. Their schedules are off unless
LEAD_PARITY_SCHEDULES names them (or says `all`), like every schedule here.
"""

from collections.abc import Mapping

import dagster as dg

from lead_parity.pipeline.incidents import IncidentStore
from lead_parity.pipeline.incidents.sinks import configured_sink_names
from lead_parity.readers.report.reviews import write_review
from orchestration.defs.resources import DEPLOYMENT_ENV, SIDE_LANE_TAG, LeadParityConfig

REVIEW_TAGS = {SIDE_LANE_TAG: "reviews"}
# kind -> (job, schedule, cron variable, default cron): Monday and the 1st at 07:00 UTC, after
# the 06:00 daily run has published.
REVIEWS = {
    "weekly": ("weekly_review_job", "weekly_review_schedule", "LEAD_PARITY_WEEKLY_CRON",
               "0 7 * * 1"),
    "monthly": ("monthly_review_job", "monthly_review_schedule", "LEAD_PARITY_MONTHLY_CRON",
                "0 7 1 * *"),
}  # fmt: skip


def review_link(path, env: Mapping[str, str] = DEPLOYMENT_ENV) -> str:
    """Where people open the file: LEAD_PARITY_REPORTS_URL + its path under reports/ when
    the reports folder is served, else a file:// URL."""
    base = env.get("LEAD_PARITY_REPORTS_URL", "").strip()
    if base:
        return f"{base.rstrip('/')}/{path.parent.name}/{path.name}"
    return path.as_uri()


def _build(kind: str) -> dg.JobDefinition:
    job_name = REVIEWS[kind][0]

    @dg.op(name=f"write_{kind}_review", description=f"Render the {kind} review and announce it.")
    def write(context: dg.OpExecutionContext, lead_parity: LeadParityConfig) -> dg.Output[None]:
        paths = lead_parity.paths()
        review = write_review(paths.published, paths.data_dir / "reports", kind)
        link = review_link(review.path)
        store = IncidentStore.in_history(paths.history)
        queued = store.announce_review(kind, review.label, link, review.figures,
                                       configured_sink_names(DEPLOYMENT_ENV))  # fmt: skip
        context.log.info(f"{kind} review for {review.label}: {review.path}")
        return dg.Output(
            None,
            metadata={
                "path": dg.MetadataValue.path(str(review.path)),
                "link": dg.MetadataValue.url(link),
                "period": review.label,
                "announced": queued,
                **review.figures,
            },
        )

    @dg.job(
        name=job_name,
        tags=REVIEW_TAGS,
        description=f"The {kind} review from the published snapshot, kept by date.",
    )
    def review_job():
        write()

    return review_job


def enabled(name: str, env: Mapping[str, str] = DEPLOYMENT_ENV) -> bool:
    names = {n.strip() for n in env.get("LEAD_PARITY_SCHEDULES", "").split(",") if n.strip()}
    return "all" in names or name in names


def _schedule(kind: str, job: dg.JobDefinition, env: Mapping[str, str] = DEPLOYMENT_ENV):
    _, name, variable, default = REVIEWS[kind]
    return dg.ScheduleDefinition(
        name=name,
        job=job,
        cron_schedule=env.get(variable, "").strip() or default,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING
        if enabled(name, env)
        else dg.DefaultScheduleStatus.STOPPED,
        description=f"Runs {job.name}. Off unless LEAD_PARITY_SCHEDULES names it; cron from "
        f"{variable} (default {default}).",
    )


review_jobs = [_build(kind) for kind in REVIEWS]
review_schedules = [_schedule(kind, job) for kind, job in zip(REVIEWS, review_jobs, strict=True)]
