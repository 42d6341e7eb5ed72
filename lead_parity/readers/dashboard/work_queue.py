"""The dashboard's "Work queue" page: review items, oldest due first, with claim / done.

Unlike the rest of the dashboard this page reads and writes the review queue's SQLite store
(`<data folder>/history/review_queue.sqlite`, beside `published/`), never the snapshot or the
warehouse: a claim is live at once and a run holding the warehouse never blocks it. The next run
mirrors it into ops.review_queue.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from lead_parity.pipeline.review_queue import RESOLUTIONS, QueueError, QueueStore
from lead_parity.pipeline.review_queue.store import STORE_FILE, from_iso
from lead_parity.readers.dashboard.store_pages import open_page, sign_and_submit


def time_left(due_at: str, now: datetime) -> str:
    seconds = int((from_iso(due_at) - now).total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    text = f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m"
    return f"{text} left" if seconds >= 0 else f"overdue {text}"


def render() -> None:
    path = open_page("Work queue", STORE_FILE, "No review queue", "the pipeline")
    if path is None:
        return
    store = QueueStore(path, create=False)
    rows = store.items(states=("open", "claimed"))
    owners = sorted({r["owner"] for r in rows} | {r["escalation_owner"] or "" for r in rows} - {""})
    left, right = st.columns(2)
    owner = left.selectbox("Owner", ["all", *owners], key="queue_owner")
    kinds = sorted({r["kind"] for r in rows})
    kind = right.selectbox("Kind", ["all", *kinds], key="queue_kind")
    rows = store.items(
        states=("open", "claimed"),
        owner=None if owner == "all" else owner,
        kind=None if kind == "all" else kind,
    )
    now = datetime.now(UTC)
    st.caption(f"{len(rows)} item(s) not done, oldest due first; clocks at {now:%H:%M} UTC.")
    if not rows:
        st.success("Nothing waiting.")
        return
    frame = pd.DataFrame(
        [
            {
                "item_id": r["item_id"],
                "kind": r["kind"],
                "conversion_id": r["conversion_id"],
                "owner": r["owner"],
                "state": r["state"],
                "claimed_by": r["claimed_by"] or "",
                "due_at": r["due_at"][:16].replace("T", " "),
                "time_left": time_left(r["due_at"], now),
                "escalated": "yes" if r["escalated_at"] else "",
                "evidence": r["evidence"],
            }
            for r in rows
        ]
    )
    st.dataframe(frame, hide_index=True)
    with st.form("queue_action"):
        item_id = st.selectbox("Item", [r["item_id"] for r in rows], key="queue_item")
        resolution = st.selectbox("Resolution (for done)", RESOLUTIONS, key="queue_resolution")
        note = st.text_input("Note (for done)", key="queue_note")
        action, by = sign_and_submit("queue_by", ("Claim", "Done"))
    if action:
        try:
            if action == "Claim":
                item = store.claim(item_id, by)
                st.success(f"{item['item_id']} claimed by {item['claimed_by']}")
            else:
                item = store.done(item_id, by, resolution, note or None)
                st.success(f"{item['item_id']} done: {item['resolution']}")
        except QueueError as exc:
            st.error(str(exc))


render()
