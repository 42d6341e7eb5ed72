"""The dashboard's "Work queue" page, run by Streamlit's own test runner: it lists items oldest
due first and its claim / done actions land in the SQLite store (never the warehouse)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lead_parity.contract import load_contract
from lead_parity.pipeline.review_queue import QueueStore, item_id_for, refresh_in_run
from lead_parity.readers import dashboard

from .stack import t, write_stack
from .test_lifecycle import DEAD, ENRICHED_BADLY, HIGH_INTENT, RECEIPTS

PAGE = Path(dashboard.__file__).with_name("work_queue.py")
APP = Path(dashboard.__file__).with_name("app.py")


@pytest.fixture
def queue(tmp_path, monkeypatch):
    wh = tmp_path / "wh.duckdb"
    write_stack(wh, [HIGH_INTENT, ENRICHED_BADLY, DEAD], RECEIPTS)
    refresh_in_run(wh, tmp_path / "history", load_contract(), t(10, 10, 40), env={})
    monkeypatch.setenv("LEAD_PARITY_PUBLISHED", str(tmp_path / "published"))
    return QueueStore.in_history(tmp_path / "history")


def test_the_page_lists_items_oldest_due_first_and_claims_and_closes_them(queue):
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["kind"]) == ["enrichment_fallback", "high_intent_unassigned", "dead_letter"]
    assert table["time_left"].str.startswith("overdue").all()  # 2026 clocks, read now
    hi = item_id_for("high_intent_unassigned", "hi1")
    at.selectbox(key="queue_item").set_value(hi)
    at.button[0].click().run()  # Claim with no name: asked for, nothing changes
    assert at.error[0].value == "Your name is needed: who takes this action."
    assert queue.item(hi)["state"] == "open"
    at.text_input(key="queue_by").set_value("ann")
    at.button[0].click().run()  # Claim
    assert not at.exception and at.success[0].value == f"{hi} claimed by ann"
    assert queue.item(hi)["state"] == "claimed"

    at.selectbox(key="queue_item").set_value(hi)
    at.text_input(key="queue_by").set_value("bob")
    at.button[1].click().run()  # Done, by someone else: refused, one line, nothing changes
    assert at.error[0].value == f"item {hi} is claimed by ann"
    at.text_input(key="queue_by").set_value("ann")
    at.selectbox(key="queue_resolution").set_value("duplicate")
    at.button[1].click().run()
    assert queue.item(hi)["resolution"] == "duplicate"
    assert [a["action"] for a in queue.actions(hi)] == ["opened", "claimed", "done"]


def test_the_dashboard_has_the_work_queue_page_whose_owner_filter_narrows_the_list(queue):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page(str(PAGE)).run()
    assert not at.exception
    assert at.title[0].value == "Work queue"
    at.selectbox(key="queue_owner").set_value("platform").run()
    assert list(at.dataframe[0].value["conversion_id"]) == ["dl1"]
