"""The dashboard's "Remediation" page: planned batches, their actions, approve / reject.

Like the work queue page, it reads and writes the remediation SQLite store
(`<data folder>/history/remediation.sqlite`, beside `published/`), never the snapshot or the
warehouse: an approval is live at once, a run holding the warehouse never blocks it, and the
remediation sensor launches the send. The same store methods as `lead-parity remediate approve`
and `reject` apply the same rules (the daily cap, one line when refused). The email an action is
addressed by stays off the page.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from lead_parity.contract import ContractError, load_contract
from lead_parity.pipeline.remediation import (
    STATUSES,
    STORE_FILE,
    RemediationError,
    RemediationStore,
)
from lead_parity.readers.dashboard.store_pages import open_page, sign_and_submit

CONTRACT_ENV = "LEAD_PARITY_CONTRACT"
ALL_HOPS = "all hops"
ACTION_COLUMNS = (
    "action_id", "conversion_id", "hop", "root_cause", "action", "target", "target_id", "status",
    "decided_by", "sent_at", "confirmed_at", "tries", "failure",
)  # fmt: skip


def batch_table(batches: list[dict]) -> pd.DataFrame:
    """One row per batch, newest first, with its actions counted per status."""
    rows = [
        {"batch_id": b["batch_id"], "planned_at": b["planned_at"][:16].replace("T", " "),
         "planned_by": b["planned_by"], "actions": b["actions"],
         **{status: b["statuses"].get(status, 0) for status in STATUSES}}
        for b in sorted(batches, key=lambda b: (b["planned_at"], b["batch_id"]), reverse=True)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def action_table(actions: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [{c: ("" if a.get(c) is None else a[c]) for c in ACTION_COLUMNS} for a in actions],
        columns=list(ACTION_COLUMNS),
    )


def _decide(store: RemediationStore, verb: str, batch_id: str, by: str, hop: str | None) -> None:
    try:
        if verb == "approve":
            contract = load_contract(os.environ.get(CONTRACT_ENV, "").strip() or None)
            ids = store.approve(batch_id, by, hop=hop, max_per_day=contract.remediation.max_per_day)
            st.success(
                f"{len(ids)} actions of {batch_id} approved by {by}; "
                "the remediation sensor sends them"
            )
        else:
            ids = store.reject(batch_id, by, hop=hop)
            st.success(f"{len(ids)} actions of {batch_id} rejected by {by}")
    except (RemediationError, ContractError) as exc:
        st.error(str(exc))


def render() -> None:
    path = open_page(
        "Remediation", STORE_FILE, "No remediation plan", "`lead-parity remediate plan`"
    )
    if path is None:
        return
    store = RemediationStore(path, create=False)
    # Filled after a decision is applied, so the counts shown are the new ones.
    summary = st.container()
    batches = store.batches()
    if not batches:
        summary.info("No batch planned.")
        return
    ids = list(batch_table(batches)["batch_id"])
    batch_id = st.selectbox("Batch", ids, key="remediation_batch")
    hops = sorted({a["hop"] for a in store.actions(batch_id=batch_id, status="proposed")})
    with st.form("remediation_decision"):
        hop = st.selectbox("Only", [ALL_HOPS, *hops], key="remediation_hop")
        action, by = sign_and_submit("remediation_by", ("Approve", "Reject"))
    if action:
        _decide(store, action.lower(), batch_id, by, None if hop == ALL_HOPS else hop)
    summary.caption(
        f"{len(batches)} batch(es), newest first. Approved actions are sent by the remediation "
        "sensor; a rejected action is never sent."
    )
    # A static table: a handful of batches, and their counts readable without scrolling a grid.
    summary.table(batch_table(store.batches()).set_index("batch_id"))
    st.subheader(f"Actions of {batch_id}")
    st.dataframe(action_table(store.actions(batch_id=batch_id)), hide_index=True)
    store.close()


render()
