"""The remediation store's rules: batches and caps, decisions, confirmation by later runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lead_parity.pipeline.remediation import Proposal, RemediationError, RemediationStore
from lead_parity.pipeline.remediation.store import SCHEMA

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


def test_a_failed_action_opens_one_incident_which_the_next_clean_run_resolves(tmp_path):
    import pandas as pd

    from expectations.evaluate import SLO_COLUMNS
    from expectations.store import write_evaluations
    from lead_parity.contract import load_contract
    from lead_parity.pipeline.incidents import IncidentStore, evaluate_in_run
    from lead_parity.pipeline.remediation.confirm import EVALUATION_RULE, evaluation_rows

    store = RemediationStore.in_history(tmp_path / "history")
    [batch] = store.record_plan(props(2, hop="support"), by="ops", at=AT, snapshot_as_of=None,
                                max_per_batch=10)  # fmt: skip
    ids = store.approve(batch, "ana", at=AT, max_per_day=10)
    store.mark_sent({i: "1" for i in ids}, AT)
    warehouse = tmp_path / "w.duckdb"
    contract = load_contract()
    for hours, seen in ((1, set()), (2, {ids[0]}), (3, set())):
        as_of = AT + timedelta(hours=hours)
        store.confirm(seen, as_of)
        rows = evaluation_rows(store, as_of)
        frame = pd.DataFrame(rows, columns=SLO_COLUMNS)
        write_evaluations(warehouse, rows[0]["evaluated_at"], EVALUATION_RULE, frame)
        evaluate_in_run(warehouse, tmp_path / "history", contract, run_url=None, env={})
        incidents = IncidentStore.in_history(tmp_path / "history").incidents()
        if hours == 1:
            assert incidents == []  # unseen once: not failed yet
    # ids[1] failed at hour 2 (its second unseen run): one incident, owned by the support hop's
    # owner, naming the conversion; hour 3 had no new failure, so it resolved.
    [incident] = IncidentStore.in_history(tmp_path / "history").incidents()
    assert incident["rule"] == "remediation" and incident["owner"] == "platform"
    failed = {a["conversion_id"] for a in store.actions(status="failed")}
    assert len(failed) == 1 and failed <= set(incident["sample_conversion_ids"])
    assert incident["status"] == "resolved"


def test_the_contract_caps_default_and_refuse_nonsense():
    import yaml

    from lead_parity.contract import DEFAULT_CONTRACT_PATH, ContractError, load_contract
    from lead_parity.contract.model import parse_contract

    assert (load_contract().remediation.max_per_batch, load_contract().remediation.max_per_day) == (
        100,
        500,
    )
    raw = yaml.safe_load(Path(DEFAULT_CONTRACT_PATH).read_text(encoding="utf-8"))
    for bad, message in (
        ({"max_per_batch": 0}, "at least 1"),
        ({"max_per_day": "lots"}, "not a non-negative number"),
        ({"per_week": 3}, "unknown setting"),
    ):
        with pytest.raises(ContractError, match=message):
            parse_contract({**raw, "remediation": bad})
    assert parse_contract({**raw, "remediation": {"max_per_day": 20}}).remediation.max_per_day == 20


def test_a_store_made_before_contact_ids_gains_the_column_and_keeps_its_rows(tmp_path):
    import sqlite3

    old = sqlite3.connect(tmp_path / "remediation.sqlite")
    schema = SCHEMA.replace(" target_id text,", "")
    assert schema != SCHEMA
    old.executescript(schema)
    old.execute(
        "insert into actions (action_id, batch_id, conversion_id, hop, action, target, "
        "target_key, status, proposed_at) values ('ra_1', 'rb_1', 'c1', 'crm', "
        "'hubspot_upsert', 'hubspot', 'p@example.com', 'approved', '2026-12-07T09:00:00.000000Z')"
    )
    old.commit()
    old.close()
    store = RemediationStore.in_history(tmp_path)
    [action] = store.approved()
    assert action["action_id"] == "ra_1" and action["target_id"] is None
    store.record_plan([Proposal("c2", "L2", "crm", "no_trace", None, "hubspot_upsert", "hubspot",
                                "q@example.com", "501")], by="ops", at=AT, snapshot_as_of=None,
                      max_per_batch=10)  # fmt: skip
    known = {a["conversion_id"]: a["target_id"] for a in store.actions()}
    assert known == {"c1": None, "c2": "501"}
