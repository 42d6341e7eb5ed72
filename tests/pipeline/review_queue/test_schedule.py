"""The review queue in the code location: its asset sits between the marts and the snapshot, and
its 5-minute schedule is off by default, configurable, and asks for runs on the writer lane."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from orchestration.definitions import defs
from orchestration.defs.queue.schedules import (
    QUEUE_JOB_NAME,
    QUEUE_SCHEDULE_NAME,
    build_queue_schedule,
)
from orchestration.defs.resources import WRITER_LANE_TAG


def test_the_schedule_is_off_unless_named_and_every_five_minutes_by_default():
    schedule = build_queue_schedule(env={})
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule == "*/5 * * * *"
    on = build_queue_schedule(
        env={
            "LEAD_PARITY_SCHEDULES": f"lead_parity_daily_schedule,{QUEUE_SCHEDULE_NAME}",
            "LEAD_PARITY_QUEUE_CRON": "*/2 * * * *",
        }  # fmt: skip
    )
    assert on.default_status == dg.DefaultScheduleStatus.RUNNING
    assert on.cron_schedule == "*/2 * * * *"
    assert build_queue_schedule(env={"LEAD_PARITY_SCHEDULES": "all"}).default_status == (
        dg.DefaultScheduleStatus.RUNNING
    )


def test_a_tick_asks_for_a_run_at_the_ticks_time_once():
    tick = datetime(2026, 10, 12, 10, 5, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    request = build_queue_schedule(env={}).evaluate_tick(context).run_requests[0]
    assert request.run_key == f"{QUEUE_SCHEDULE_NAME}:2026-10-12T10:05:00Z"
    assert request.run_config["resources"]["lead_parity"]["config"] == {
        "as_of": "2026-10-12T10:05:00Z"
    }


def test_the_queue_job_runs_on_the_same_writer_lane_as_the_daily_job():
    queue_job = defs.resolve_job_def(QUEUE_JOB_NAME)
    daily_job = defs.resolve_job_def("lead_parity_job")
    assert queue_job.tags[WRITER_LANE_TAG] == daily_job.tags[WRITER_LANE_TAG]
    assert defs.resolve_schedule_def(QUEUE_SCHEDULE_NAME).job_name == QUEUE_JOB_NAME


def test_the_review_queue_asset_is_after_the_marts_and_incidents_and_before_the_snapshot():
    graph = defs.resolve_asset_graph()
    review_queue = dg.AssetKey("review_queue")
    parents = graph.get(review_queue).parent_keys
    assert {dg.AssetKey("fct_conversions"), dg.AssetKey("incidents")} <= parents
    assert review_queue in graph.get(dg.AssetKey("published_snapshot")).parent_keys
