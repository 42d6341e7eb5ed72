"""The `review_queue` asset: exception leads of this run's as_of become work items."""

import dagster as dg

from lead_parity.pipeline.review_queue import QueueStore, refresh_in_run
from lead_parity.pipeline.review_queue.store import STORE_FILE
from orchestration.defs.resources import DEPLOYMENT_ENV, LeadParityConfig

REVIEW_QUEUE_KEY = dg.AssetKey("review_queue")
# Where the evidence comes from (fct_conversions, the receipts' staging view), and incidents so
# that the daily run's incident step never waits behind queue notifications.
UPSTREAM_KEYS = (
    dg.AssetKey("fct_conversions"),
    dg.AssetKey("stg_integration__receipts"),
    dg.AssetKey("incidents"),
)


def _md(rows: list[dict]) -> str:
    head = "| item | kind | conversion | owner | state | due |\n|---|---|---|---|---|---|\n"
    body = "".join(
        f"| {r['item_id']} | {r['kind']} | `{r['conversion_id']}` | {r['owner']} | "
        f"{r['state']} | {r['due_at']} |\n"
        for r in rows[:50]
    )
    return head + body if rows else "No open review item."


@dg.asset(
    key=REVIEW_QUEUE_KEY,
    deps=list(UPSTREAM_KEYS),
    group_name="review_queue",
    kinds={"sqlite", "duckdb"},
    description="One work item per (kind, conversion_id) of SPEC section 9: high-intent leads "
    "nobody assigned, failed enrichments, dead letters, each with its clock and owner. State "
    "lives in history/review_queue.sqlite (people's claims never wait for the warehouse); "
    "ops.review_queue and ops.review_queue_actions mirror it. See docs/review-queue.md.",
)
def review_queue(lead_parity: LeadParityConfig) -> dg.MaterializeResult:
    paths = lead_parity.duckdb_paths("the review queue")
    report = refresh_in_run(
        paths.warehouse,
        paths.history,
        lead_parity.contract(),
        lead_parity.as_of_datetime(),
        env=DEPLOYMENT_ENV,
    )
    open_rows = QueueStore.in_history(paths.history).items(states=("open", "claimed"))
    return dg.MaterializeResult(
        metadata={
            "as_of": lead_parity.as_of_datetime().isoformat(),
            "applied": report.applied.skipped or "yes",
            "opened": len(report.applied.opened),
            "reached": len(report.applied.reached),
            "escalated": len(report.applied.escalated),
            "in_digest": report.applied.digested,
            "not_done": len(open_rows),
            "rows_in_ops_review_queue": report.mirrored,
            "notifications_delivered": report.delivery.delivered,
            "notifications_waiting": report.delivery.pending,
            "open_items": dg.MetadataValue.md(_md(open_rows)),
            "store": dg.MetadataValue.path(str(paths.history / STORE_FILE)),
        }
    )


queue_assets = [review_queue]
