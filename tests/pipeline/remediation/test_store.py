"""The remediation store's rules: batches and caps, decisions, confirmation by later runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lead_parity.pipeline.remediation import Proposal, RemediationError, RemediationStore

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def props(n: int, hop: str = "crm") -> list[Proposal]:
    return [
        Proposal(f"c{i}", f"L{i}", hop, "no_trace", "demo_request", "hubspot_upsert", "hubspot",
                 f"p{i}@example.com")
        for i in range(n)
    ]  # fmt: skip


def test_plans_split_into_capped_batches_and_never_twice(tmp_path):
    store = RemediationStore.in_history(tmp_path)
    batches = store.record_plan(props(250), by="ops", at=AT, snapshot_as_of=None,
                                max_per_batch=100)  # fmt: skip
    assert [len(store.actions(batch_id=b)) for b in batches] == [100, 100, 50]
    assert store.record_plan(props(250), by="ops", at=AT, snapshot_as_of=None,
                             max_per_batch=100) == []  # fmt: skip


def test_the_daily_cap_refuses_an_approval_that_would_pass_it(tmp_path):
    store = RemediationStore.in_history(tmp_path)
    first, second = store.record_plan(props(8), by="ops", at=AT, snapshot_as_of=None,
                                      max_per_batch=4)  # fmt: skip
    store.approve(first, "ana", at=AT, max_per_day=6)
    with pytest.raises(RemediationError, match="max_per_day 6 \\(4 already approved"):
        store.approve(second, "ana", at=AT, max_per_day=6)
    # The next day has room again.
    assert len(store.approve(second, "ana", at=AT + timedelta(days=1), max_per_day=6)) == 4
    with pytest.raises(RemediationError, match="no proposed action"):
        store.reject(second, "bo", at=AT)
    with pytest.raises(RemediationError, match="--by"):
        store.approve(first, " ", at=AT, max_per_day=6)


def test_sent_actions_are_confirmed_when_seen_and_fail_unseen_after_two_runs(tmp_path):
    store = RemediationStore.in_history(tmp_path)
    [batch] = store.record_plan(props(3), by="ops", at=AT, snapshot_as_of=None,
                                max_per_batch=10)  # fmt: skip
    ids = store.approve(batch, "ana", at=AT, max_per_day=10)
    store.mark_sent({i: "1" for i in ids}, AT)
    run1, run2 = AT + timedelta(hours=1), AT + timedelta(hours=2)
    assert store.confirm({ids[0]}, run1) == ([ids[0]], [])
    assert store.confirm(set(), run1) == ([], [])  # the same run again counts once
    assert store.confirm({ids[1]}, run2) == ([ids[1]], [ids[2]])
    status = {a["action_id"]: a["status"] for a in store.actions()}
    assert status == {ids[0]: "confirmed", ids[1]: "confirmed", ids[2]: "failed"}
