"""The dashboard's "Incidents" page: live incidents with acknowledge / resolve.

Like the work queue, this page reads and writes the incident store
(`<data folder>/history/incidents.sqlite`, beside `published/`) in short SQLite transactions,
never the snapshot or the DuckDB warehouse: an action is shown at once and a run holding the
warehouse never blocks it. The next run folds it into ops.incidents and ops.incident_events;
the notifications it makes (PagerDuty acknowledge / resolve, Slack, webhook) wait in the outbox
for the next delivery (Dagster's incident_outbox_sensor, or the next run).
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from lead_parity.pipeline.incidents import IncidentStateError, IncidentStore
from lead_parity.pipeline.incidents.sinks import configured_sink_names
from lead_parity.pipeline.incidents.store import STORE_FILE, PostmortemRequired
from lead_parity.readers.dashboard.formats import table
from lead_parity.readers.dashboard.store_pages import open_page, sign_and_submit

FLASH = "incident_flash"
SHOWN = ("live", "open", "acknowledged", "resolved", "all")


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "incident_id": r["incident_id"],
                "status": r["status"],
                "severity": r["severity"],
                "rule": r["rule"],
                "scope": r["scope"],
                "first_breach": r["first_breach_date"] or "",
                "last_breach": r["last_breach_date"] or "",
                "days_breached": r["days_breached"],
                "expected": r["expected"],
                "dropped": r["dropped"],
                "discrepancy_pct": r["discrepancy_pct"],
                "owner": r["owner"],
                "acknowledged_by": r["acknowledged_by"] or "",
                "resolved_by": r["resolved_by"] or "",
                "postmortem": (r.get("postmortem_url") or "required")
                if r["postmortem_required"]
                else "",
                "summary": r["summary"],
            }
            for r in rows
        ]
    )


def _act(store: IncidentStore, action: str, incident_id: str, by: str, note: str, url: str) -> None:
    """Apply one action; the outcome is kept for the rerun that shows the new state."""
    sinks = configured_sink_names(os.environ)
    try:
        if action == "ack":
            inc, changed = store.acknowledge(
                incident_id, by=by, note=note.strip() or None, sinks=sinks
            )
        else:
            inc, changed = store.resolve(
                incident_id, by=by, note=note.strip() or None, sinks=sinks,
                postmortem=url.strip() or None,
            )  # fmt: skip
    except PostmortemRequired as exc:
        st.session_state[FLASH] = ("error", f"{exc} (here: the postmortem link field)")
        return
    except IncidentStateError as exc:
        st.session_state[FLASH] = ("error", str(exc))
        return
    if changed:
        text = f"{inc['incident_id']} {inc['status']} by {by}"
        st.session_state[FLASH] = ("success", f"{text}. The next run records it in ops.incidents.")
    else:
        st.session_state[FLASH] = ("info", f"{inc['incident_id']} was already {inc['status']}.")


def render() -> None:
    path = open_page("Incidents", STORE_FILE, "No incidents recorded", "the pipeline")
    if path is None:
        return
    store = IncidentStore(path)
    flash = st.session_state.pop(FLASH, None)
    if flash:
        getattr(st, flash[0])(flash[1])
    shown = st.selectbox("Show", SHOWN, key="incidents_status", help="live: open or acknowledged")
    rows = store.incidents(None if shown == "all" else shown)
    rows.reverse()  # newest first
    st.caption(
        f"{len(rows)} {'' if shown == 'all' else shown + ' '}incident(s), live from {path}; "
        "the overview shows the last published run."
    )
    if rows:
        with st.container(key="incidents_table"):
            table(_frame(rows))
    live = store.incidents("live")
    if not live:
        st.success("No live incidents: nothing to acknowledge or resolve.")
        return
    st.subheader("Acknowledge or resolve")
    labels = {
        r["incident_id"]: f"{r['incident_id']} · {r['status']} · {r['summary'][:80]}" for r in live
    }
    with st.form("incident_action"):
        incident_id = st.selectbox(
            "Incident", list(labels), format_func=labels.get, key="incident_id"
        )
        note = st.text_input("Note", key="incident_note")
        url = st.text_input(
            "Postmortem link (resolve)",
            key="incident_postmortem",
            help="Required to resolve an incident that asked to pause a campaign",
        )
        action, by = sign_and_submit("incident_by", ("Acknowledge", "Resolve"), side_by_side=True)
    if action:
        _act(store, "ack" if action == "Acknowledge" else "resolve", incident_id, by, note, url)
        st.rerun()


render()
