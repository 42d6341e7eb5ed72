"""The in-run step: read the evidence at as_of, apply it to the store, mirror ops.review_queue.

Called by the `review_queue` asset, which runs inside the warehouse's writer lane. The warehouse
is opened once, read, written (the mirror, one transaction) and closed before any notification is
sent, so a slow sink never holds the DuckDB file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from lead_parity.contract import Contract
from lead_parity.pipeline.http_client import HttpSettings
from lead_parity.pipeline.human_state import TIMESTAMP, ops_table, replace_ops_tables
from lead_parity.pipeline.review_queue.evidence import read_evidence
from lead_parity.pipeline.review_queue.notify import QueueDelivery, deliver, queue_sink_names
from lead_parity.pipeline.review_queue.settings import settings_for
from lead_parity.pipeline.review_queue.store import ApplyResult, QueueStore

_TS = TIMESTAMP
ITEM_SCHEMA = pa.schema([
    ("item_id", pa.string()), ("kind", pa.string()), ("conversion_id", pa.string()),
    ("opened_at", _TS), ("due_at", _TS), ("state", pa.string()), ("claimed_by", pa.string()),
    ("resolution", pa.string()), ("escalated_at", _TS), ("owner", pa.string()),
    ("escalation_owner", pa.string()), ("hop", pa.string()), ("conversion_type", pa.string()),
    ("origin", pa.string()), ("intent_score", pa.float64()), ("evidence", pa.string()),
    ("claimed_at", _TS), ("closed_at", _TS), ("closed_by", pa.string()), ("note", pa.string()),
    ("first_seen_at", _TS), ("notified", pa.string()),
])  # fmt: skip
ACTION_SCHEMA = pa.schema([
    ("seq", pa.int64()), ("item_id", pa.string()), ("action", pa.string()),
    ("actor", pa.string()), ("at", _TS), ("resolution", pa.string()), ("note", pa.string()),
])  # fmt: skip


def mirror_to_warehouse(store: QueueStore, con: duckdb.DuckDBPyConnection) -> int:
    """Replace ops.review_queue and ops.review_queue_actions from the store; returns items."""
    items = ops_table(store.items(), ITEM_SCHEMA)
    replace_ops_tables(
        con,
        {"review_queue": items, "review_queue_actions": ops_table(store.actions(), ACTION_SCHEMA)},
    )
    return items.num_rows


@dataclass
class QueueRunReport:
    applied: ApplyResult
    mirrored: int
    delivery: QueueDelivery

    def lines(self) -> list[str]:
        return [self.applied.line(), self.delivery.line()]


def refresh_in_run(
    warehouse: Path,
    history: Path,
    contract: Contract,
    as_of: datetime,
    *,
    env: Mapping[str, str],
    settings: HttpSettings | None = None,
    budget_s: float | None = 20.0,
) -> QueueRunReport:
    """Read, apply, mirror, then notify (within `budget_s`; the rest waits for the next run)."""
    queue = settings_for(contract)
    store = QueueStore.in_history(history)
    con = duckdb.connect(str(warehouse))
    try:
        waiting = [(r["kind"], r["conversion_id"]) for r in store.items(states=("open", "claimed"))]
        evidence = read_evidence(con, queue, as_of, waiting)
        applied = store.apply(
            as_of,
            evidence,
            hop_owners=queue.hop_owners,
            escalation_owner=queue.escalation_owner,
            page_within_s=queue.page_within_s,
            sinks=queue_sink_names(env),
        )
        mirrored = mirror_to_warehouse(store, con)
    finally:
        con.close()
    delivery = deliver(store, env, settings, budget_s=budget_s)
    return QueueRunReport(applied, mirrored, delivery)
