"""The review queue: its asset, the intra-day job and schedule (plain logic in
lead_parity.pipeline.review_queue)."""

from orchestration.defs.queue.assets import REVIEW_QUEUE_KEY, queue_assets, review_queue
from orchestration.defs.queue.schedules import queue_jobs, queue_schedules

__all__ = ["REVIEW_QUEUE_KEY", "queue_assets", "queue_jobs", "queue_schedules", "review_queue"]
