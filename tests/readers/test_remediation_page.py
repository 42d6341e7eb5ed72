"""The dashboard's "Remediation" page in Debian's chromium, while a run holds the warehouse:
batches with counts per status, a batch's actions, and an approval by name that lands in the
remediation SQLite store under history/ (the warehouse stays locked by the run throughout)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from browser import block_network, chromium
from test_dashboard import running_dashboard

from lead_parity.pipeline.remediation import Proposal, RemediationStore

pytestmark = pytest.mark.browser

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PROPOSALS = [
    Proposal("c'1", "L1", "crm", "no_trace", "demo_request", "hubspot_upsert", "hubspot",
             "ann@example.com", "501"),
    Proposal("c2", "L2", "crm_assignment", "unassigned", "demo_request", "hubspot_flag",
             "hubspot", "bob@example.com"),
    Proposal("q1", "L3", "support", "silent_drop", "question", "zendesk_ticket", "zendesk",
             "cy@example.com"),
]  # fmt: skip


def batch_counts(page) -> dict[str, dict[str, str]]:
    """The batches table as drawn: batch id -> the columns shown, as text."""
    rows = page.eval_on_selector_all(
        "[data-testid='stTable'] tr",
        "rows => rows.map(r => Array.from(r.querySelectorAll('th, td')).map(c => c.innerText))",
    )
    header, *body = [[cell.strip() for cell in row] for row in rows]
    wanted = ("actions", "proposed", "approved", "rejected", "sent")
    return {r[0]: {c: v for c, v in zip(header, r, strict=True) if c in wanted} for r in body}


def test_the_remediation_page_approves_a_batch_into_the_sqlite_store(
    synthetic_stack, warehouse_lock_holder, tmp_path
):
    warehouse_lock_holder(synthetic_stack["warehouse"])
    data = tmp_path / "data"
    data.mkdir()
    (data / "published").symlink_to(synthetic_stack["published"], target_is_directory=True)
    store = RemediationStore.in_history(data / "history")
    [batch] = store.record_plan(PROPOSALS, by="ops", at=AT, snapshot_as_of=None, max_per_batch=10)
    store.reject(batch, "ops", hop="support", at=AT)
    with (
        running_dashboard(data / "published", tmp_path / "streamlit.log") as dashboard,
        chromium() as browser,
    ):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        blocked = block_network(context, (f"http://127.0.0.1:{dashboard['port']}/", "data:"))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(dashboard["url"] + "remediation")
        page.wait_for_selector(f"text=Actions of {batch}", timeout=120_000)
        page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=60_000)
        page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
        assert batch_counts(page) == {batch: {"actions": "3", "proposed": "2", "approved": "0",
                                              "rejected": "1", "sent": "0"}}  # fmt: skip
        page.get_by_label("Your name").fill("ana")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_selector(f"text=2 actions of {batch} approved by ana", timeout=60_000)
        page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=60_000)
        assert batch_counts(page)[batch]["approved"] == "2"  # the table shows the new counts
        body = page.inner_text("body")
        assert "Traceback" not in body and page.locator("[data-testid='stException']").count() == 0
        assert "@example.com" not in body  # the addressed email stays in the store
        assert blocked == [] and errors == []
        context.close()
    decided = {a["conversion_id"]: (a["status"], a["decided_by"]) for a in store.actions()}
    assert decided == {"c'1": ("approved", "ana"), "c2": ("approved", "ana"),
                       "q1": ("rejected", "ops")}  # fmt: skip
