"""Exception leads as work items (SPEC section 9): evidence, SQLite store, notifications, mirror."""

from lead_parity.pipeline.review_queue.evidence import Evidence, read_evidence
from lead_parity.pipeline.review_queue.notify import deliver, queue_sink_names
from lead_parity.pipeline.review_queue.run import (
    QueueRunReport,
    mirror_to_warehouse,
    refresh_in_run,
)
from lead_parity.pipeline.review_queue.settings import (
    KINDS,
    RESOLUTIONS,
    QueueSettings,
    settings_for,
)
from lead_parity.pipeline.review_queue.store import (
    STORE_FILE,
    QueueError,
    QueueStore,
    item_id_for,
)

__all__ = [
    "KINDS",
    "RESOLUTIONS",
    "STORE_FILE",
    "Evidence",
    "QueueError",
    "QueueRunReport",
    "QueueSettings",
    "QueueStore",
    "deliver",
    "item_id_for",
    "mirror_to_warehouse",
    "queue_sink_names",
    "read_evidence",
    "refresh_in_run",
    "settings_for",
]
