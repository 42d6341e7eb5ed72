"""The weekly reconciliation and the monthly root-cause review: jobs, schedules."""

from orchestration.defs.reviews.jobs import review_jobs, review_schedules

__all__ = ["review_jobs", "review_schedules"]
