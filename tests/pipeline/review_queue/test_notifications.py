"""Review-item notifications through real HTTP receivers on 127.0.0.1: a new item goes to its
owner's Slack channel and the webhook, an overdue one once to the escalation owner, and evidence
older than alerting.page_within goes into one digest per run."""

from __future__ import annotations

import json

import pytest
from incidents.helpers import FAST, Receiver  # tests/pipeline/incidents: the real receivers

from lead_parity.contract import load_contract
from lead_parity.pipeline.incidents import verify_signature
from lead_parity.pipeline.incidents.sinks import TIMESTAMPED_SIGNATURE_HEADER, verify_timestamped
from lead_parity.pipeline.review_queue import item_id_for, refresh_in_run

from .stack import t, write_stack
from .test_lifecycle import DEAD, ENRICHED_BADLY, HIGH_INTENT, LOW_INTENT, RECEIPTS

SECRET = "queue-test-secret"


@pytest.fixture
def receivers():
    made = {name: Receiver().start() for name in ("sales_ops", "default", "webhook")}
    yield made
    for r in made.values():
        r.stop()


def _env(receivers) -> dict[str, str]:
    return {
        "LEAD_PARITY_SLACK_WEBHOOK_URL_SALES_OPS": receivers["sales_ops"].url("/T1/B1/salesops"),
        "LEAD_PARITY_SLACK_WEBHOOK_URL": receivers["default"].url("/T1/B2/everyone"),
        "LEAD_PARITY_WEBHOOK_URL": receivers["webhook"].url("/hook"),
        "LEAD_PARITY_WEBHOOK_SECRET": SECRET,
    }


def _refresh(wh, as_of, env):
    return refresh_in_run(wh, wh.parent / "history", load_contract(), as_of, env=env,
                          settings=FAST)  # fmt: skip


def _texts(receiver) -> list[str]:
    return [r.json()["text"] for r in receiver.accepted()]


def test_new_items_go_to_their_owner_and_overdue_ones_once_to_the_escalation_owner(
    tmp_path, receivers
):
    wh = tmp_path / "wh.duckdb"
    write_stack(wh, [HIGH_INTENT, LOW_INTENT, ENRICHED_BADLY, DEAD], RECEIPTS)
    env = _env(receivers)
    first = _refresh(wh, t(10, 10, 40), env)
    assert first.delivery.delivered == 8 and first.delivery.pending == 0
    sales = _texts(receivers["sales_ops"])
    assert len(sales) == 2 and all("Review item for sales_ops" in s for s in sales)
    assert any(item_id_for("high_intent_unassigned", "hi1") in s for s in sales)
    default = _texts(receivers["default"])
    # dl1 is platform's (no channel of its own); en1 was already overdue: escalated to the CRO.
    assert sorted(s.split("*")[1] for s in default) == [
        "Overdue review item escalated to cro", "Review item for platform"]  # fmt: skip
    hooks = receivers["webhook"].accepted()
    for hook in hooks:
        assert verify_signature(hook.body, hook.headers["X-Lead-Parity-Signature"], SECRET)
        assert verify_timestamped(hook.body, hook.headers[TIMESTAMPED_SIGNATURE_HEADER], SECRET)
    types = sorted(json.loads(h.body)["event_type"] for h in hooks)
    assert types == ["review_item.escalated"] + ["review_item.opened"] * 3

    _refresh(wh, t(10, 10, 40), env)  # the same as_of again: nothing new is sent
    assert len(receivers["default"].requests) == 2 and len(receivers["webhook"].requests) == 4

    _refresh(wh, t(10, 11, 10), env)  # hi1 (due 11:00) and dl1 (due 11:05) are now overdue
    _refresh(wh, t(10, 13, 0), env)
    escalations = [s for s in _texts(receivers["default"]) if "escalated to cro" in s]
    assert len(escalations) == 3
    assert sum(item_id_for("high_intent_unassigned", "hi1") in s for s in escalations) == 1
    assert len(receivers["sales_ops"].requests) == 2


def test_evidence_older_than_page_within_goes_into_one_digest(tmp_path, receivers):
    wh = tmp_path / "wh.duckdb"
    write_stack(wh, [HIGH_INTENT, LOW_INTENT, ENRICHED_BADLY, DEAD], RECEIPTS)
    env = _env(receivers)
    report = _refresh(wh, t(15, 10), env)  # a first run five days after the evidence
    assert len(report.applied.opened) == 3 and report.applied.digested == 6
    assert receivers["sales_ops"].requests == []
    (digest,) = _texts(receivers["default"])
    assert "Review queue digest" in digest and "3 item(s) opened and 3 escalated" in digest
    (hook,) = receivers["webhook"].accepted()
    body = hook.json()
    assert body["event_type"] == "review_queue.digest" and body["recipient"] == "cro"
    assert body["by_owner"] == {"platform": 2, "sales_ops": 4}
    _refresh(wh, t(15, 10), env)
    assert len(receivers["default"].requests) == 1


def test_a_sink_that_is_down_keeps_events_for_the_next_run(tmp_path, receivers):
    wh = tmp_path / "wh.duckdb"
    write_stack(wh, [HIGH_INTENT], [])
    env = {"LEAD_PARITY_WEBHOOK_URL": receivers["webhook"].url("/hook")}
    receivers["webhook"].default_status = 503
    first = _refresh(wh, t(10, 10, 40), env)
    assert first.delivery.delivered == 0 and first.delivery.pending == 1
    assert "HTTP 503" in first.delivery.errors[0] and "/hook" not in first.delivery.errors[0]
    receivers["webhook"].default_status = 202
    second = _refresh(wh, t(10, 10, 41), env)
    assert second.delivery.delivered == 1
    assert len(receivers["webhook"].accepted()) == 1
