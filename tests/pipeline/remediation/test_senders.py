"""Remediation senders against fake HubSpot and Zendesk servers on 127.0.0.1: exactly once under
random faults, nothing without approval, nothing on a re-run, Retry-After, no secret leaks."""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime

from lead_parity.contract import load_contract
from lead_parity.contract.model import RemediationRule
from lead_parity.pipeline.http_client import HttpSettings
from lead_parity.pipeline.remediation import Proposal, RemediationStore, send_batch

from .fake_writes import (
    FAULTS,
    HUBSPOT_TOKEN,
    ZENDESK_TOKEN,
    FakeWrites,
)

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
FAST = HttpSettings(
    connect_timeout_s=1.0,
    read_timeout_s=0.15,
    max_attempts=3,
    backoff_factor_s=0.0,
    backoff_max_s=0.0,
    backoff_jitter_s=0.0,
    retry_after_max_s=2,
    request_deadline_s=2.0,
)
CONTRACT = load_contract()


def proposals(n_contacts: int, n_tickets: int, n_flags: int = 0) -> list[Proposal]:
    out = [
        Proposal(f"c{i}", f"L{i}", "crm", "integration_failure", "demo_request",
                 "hubspot_upsert", "hubspot", f"lead{i}@example.com")
        for i in range(n_contacts)
    ]  # fmt: skip
    out += [
        Proposal(f"q{i}", f"Q{i}", "support", "silent_drop", "question",
                 "zendesk_ticket", "zendesk", f"asker{i}@example.com")
        for i in range(n_tickets)
    ]  # fmt: skip
    out += [
        Proposal(f"a{i}", f"A{i}", "crm_assignment", "unassigned", "demo_request",
                 "hubspot_flag", "hubspot", f"owned{i}@example.com")
        for i in range(n_flags)
    ]  # fmt: skip
    return out


def planned(tmp_path, props: list[Proposal], approve: bool = True) -> tuple[RemediationStore, str]:
    store = RemediationStore.in_history(tmp_path / "history")
    [batch] = store.record_plan(props, by="ops", at=AT, snapshot_as_of=None, max_per_batch=10_000)
    if approve:
        store.approve(batch, "ana", at=AT, max_per_day=10_000)
    return store, batch


def send(tmp_path, fake: FakeWrites, batch: str | None, contract=CONTRACT, settings=FAST):
    return send_batch(
        tmp_path / "history", contract, batch, env=fake.env(), settings=settings, pause_s=0.0
    )


def lp_tickets(fake: FakeWrites) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in fake.tickets:
        counts[t["external_id"]] = counts.get(t["external_id"], 0) + 1
    return counts


def known_contacts(fake: FakeWrites) -> tuple[list[Proposal], dict[str, str]]:
    """Leads whose contact the identity spine knows, seeded in the fake: proposals carrying the
    contact id, and action id -> the contact that must end up holding it.
    - k: the lead converted under an email the contact does not hold (the spine linked them by
      lead_id); a re-send and a routing flag of it, both by id;
    - m: the spine saw contact M2, which has since been merged with M1 into a new contact;
    - x: the address is an additional email of the contact the spine knows."""
    k = fake.add_contact("k.primary@example.com", additional=("k.other@example.com",))
    m1 = fake.add_contact("m1@example.com")
    m2 = fake.add_contact("m2@example.com")
    merged = fake.merge(m1, m2)
    x = fake.add_contact("x.primary@example.com", additional=("x.lead@example.com",))
    out = [
        Proposal("k1", "LK", "crm", "silent_drop", "demo_request", "hubspot_upsert", "hubspot",
                 "k.lead@example.com", k),
        Proposal("k2", "LK", "crm_assignment", "unassigned", "demo_request", "hubspot_flag",
                 "hubspot", "k.lead@example.com", k),
        Proposal("m1", "LM", "crm", "no_trace", "demo_request", "hubspot_upsert", "hubspot",
                 "m2@example.com", m2),
        Proposal("x1", "LX", "marketing", "integration_failure", "contact_sales",
                 "hubspot_upsert", "hubspot", "x.lead@example.com", x),
    ]  # fmt: skip
    return out, {p.action_id: {"k": k, "m": merged, "x": x}[p.conversion_id[0]] for p in out}


def test_exactly_once_under_fifty_random_fault_schedules(tmp_path):
    # Each schedule: a fresh store and a reset fake, the first writes and reads of every endpoint
    # scripted with random faults, then the batch is sent (and re-launched, as the sensor would,
    # while approved actions are left). HubSpot is written both ways: upserts by email and
    # updates by the contact id the spine knows (additional emails and a merged id included).
    with FakeWrites() as fake:
        for seed in range(50):
            rng = random.Random(seed)
            home = tmp_path / f"s{seed}"
            fake.reset(idempotency_ttl_s=rng.choice([0.0, 3600.0]), slow_s=0.25)
            fake.add_contact("old@example.com", additional=("lead0@example.com",))
            by_id, holder = known_contacts(fake)
            props = proposals(4, 3, 1) + by_id
            store, batch = planned(home, props)
            contacts_before = len(fake.contacts)
            for endpoint in ("upsert", "update", "read", "ticket_lookup", "ticket_create",
                             "user_upsert"):  # fmt: skip
                fake.schedule[endpoint] = deque(
                    rng.choice([*FAULTS, None, None]) if rng.random() < 0.5 else None
                    for _ in range(rng.randint(0, 4))
                )
                # A slow answer costs a read timeout: keep each schedule quick.
                slow = [i for i, f in enumerate(fake.schedule[endpoint]) if f == "commit_slow"]
                for i in slow[1:]:
                    fake.schedule[endpoint][i] = None
            for _ in range(4):
                send(home, fake, batch)
                if not store.approved(batch):
                    break
            statuses = {a["status"] for a in store.actions(batch_id=batch)}
            assert statuses == {"sent"}, (seed, statuses, fake.schedule)
            # Zendesk: one lp: ticket per ticket action, never two (external_id is not unique).
            assert lp_tickets(fake) == {f"lp:q{i}": 1 for i in range(3)}, seed
            # HubSpot by email: one contact per email; lead0 is an additional email of an old
            # contact. By id: the known contact is updated, and no contact is ever created for
            # the email the lead converted under.
            emails = [p.target_key for p in props if p.target == "hubspot" and not p.contact_id]
            ids = {e: fake.contact_for(e) for e in emails}
            assert all(ids.values()), seed
            assert ids["lead0@example.com"] == fake.contact_for("old@example.com")
            assert len(fake.contacts) == contacts_before + len(emails) - 1, seed
            assert fake.contact_for("k.lead@example.com") is None, seed
            sent = {a["action_id"]: a["object_id"] for a in store.actions(batch_id=batch)}
            for p in props:
                if p.target != "hubspot":
                    continue
                contact = holder.get(p.action_id) or ids[p.target_key]
                assert p.action_id in fake.contacts[contact]["lp_remediation"], seed
                assert sent[p.action_id] == contact, seed
            assert fake.contacts[holder[by_id[1].action_id]]["lp_needs_routing"] == "true"
            writes_before = len(fake.writes())
            report = send(home, fake, batch)
            assert report.sent == 0 and len(fake.writes()) == writes_before, seed


def test_a_contact_id_gone_since_the_spine_saw_it_falls_back_to_email(tmp_path):
    # The contact was deleted after the last fetch: the update fails that input (207), a read
    # by id confirms it is gone, and the action is upserted by email instead: sent, once.
    gone = Proposal("g1", "LG", "crm", "no_trace", "demo_request", "hubspot_upsert", "hubspot",
                    "gone@example.com", "424242")  # fmt: skip
    store, batch = planned(tmp_path, [gone, *proposals(1, 0)])
    with FakeWrites() as fake:
        report = send(tmp_path, fake, batch)
        trail = [(r.endpoint, r.status) for r in fake.log]
        assert report.sent == 2 and report.unresolved == 0
        assert ("update", 207) in trail and trail[-1] == ("upsert", 200)
        assert fake.contact_for("gone@example.com") is not None and len(fake.contacts) == 2
        assert send(tmp_path, fake, batch).sent == 0 and len(fake.writes()) == 3


def test_rerun_of_a_half_sent_batch_reads_before_it_writes(tmp_path):
    # The first run commits everything but never hears back (the connection drops after the
    # commit): the re-run finds the objects by reading and writes nothing more.
    props = proposals(3, 2)
    store, batch = planned(tmp_path, props)
    with FakeWrites() as fake:
        # Every write is applied and no answer ever arrives; every read after the first
        # lookup of each ticket fails (3 tries per read, 5 more rounds).
        fake.schedule["upsert"] = deque(["commit_drop"] * 50)
        fake.schedule["ticket_create"] = deque(["commit_drop"] * 50)
        fake.schedule["read"] = deque(["500"] * 100)
        fake.schedule["ticket_lookup"] = deque([None, *["500"] * 15] * 2)
        first = send(tmp_path, fake, batch)
        assert first.sent == 0 and first.unresolved == 5
        writes = len(fake.writes())
        fake.schedule.clear()
        second = send(tmp_path, fake, batch)
        assert second.sent == first.unresolved
        assert [w.endpoint for w in fake.writes()[writes:]] == []
        assert lp_tickets(fake) == {"lp:q0": 1, "lp:q1": 1}
        assert len(fake.contacts) == 3


def test_no_approval_no_write(tmp_path):
    props = proposals(3, 2)
    store, batch = planned(tmp_path, props, approve=False)
    with FakeWrites() as fake:
        report = send(tmp_path, fake, batch)
        assert report.sent == 0 and fake.log == []
        store.reject(batch, "ana", at=AT)
        send(tmp_path, fake, None)
        assert fake.log == [] and fake.contacts == {} and fake.tickets == []
    assert {a["status"] for a in store.actions()} == {"rejected"}


def test_only_support_then_the_rest(tmp_path):
    store = RemediationStore.in_history(tmp_path / "history")
    [batch] = store.record_plan(proposals(2, 2), by="ops", at=AT, snapshot_as_of=None,
                                max_per_batch=100)  # fmt: skip
    assert len(store.approve(batch, "ana", hop="support", at=AT, max_per_day=100)) == 2
    with FakeWrites() as fake:
        send(tmp_path, fake, batch)
        assert len(fake.tickets) == 2 and fake.contacts == {}


def test_a_timeout_is_resolved_by_a_read_before_any_retry(tmp_path):
    store, batch = planned(tmp_path, proposals(0, 1))
    with FakeWrites(slow_s=0.5, idempotency_ttl_s=0.0) as fake:
        fake.schedule["ticket_create"] = deque(["commit_slow"])
        report = send(tmp_path, fake, batch)
        assert report.sent == 1
        trail = [(r.method, r.endpoint) for r in fake.log]
        assert trail == [
            ("GET", "ticket_lookup"),
            ("POST", "user_upsert"),
            ("POST", "ticket_create"),  # applied, answered too late: unknown
            ("GET", "ticket_lookup"),  # found: no second POST although the key expired
        ]
        assert len(fake.tickets) == 1
    outcomes = [a["outcome"] for a in store.attempts()]
    assert "unknown" in outcomes


def test_partial_207_sends_only_the_failed_inputs_again(tmp_path):
    store, batch = planned(tmp_path, proposals(4, 0))
    with FakeWrites() as fake:
        fake.schedule["upsert"] = deque(["partial"])
        report = send(tmp_path, fake, batch)
        assert report.sent == 4 and len(fake.contacts) == 4
        assert [r.status for r in fake.log if r.endpoint == "upsert"] == [207, 200]
    outcomes = sorted(a["outcome"] for a in store.attempts())
    assert outcomes.count("partial_failure") == 2 and outcomes.count("ok") == 4


def test_retry_after_is_honoured(tmp_path):
    store, batch = planned(tmp_path, proposals(0, 2))
    with FakeWrites(limit=3, window_s=1.0) as fake:
        report = send(tmp_path, fake, batch)
        assert report.sent == 2
        limited = [r for r in fake.log if r.status == 429]
        assert limited, "the fake's rate limit should have answered 429"
        after = [r for r in fake.log if r.at > limited[0].at]
        assert after[0].at - limited[0].at >= 0.9  # Retry-After: 1


def test_no_secret_in_attempts_or_logs(tmp_path, caplog):
    store, batch = planned(tmp_path, proposals(2, 2))
    with FakeWrites() as fake, caplog.at_level(logging.DEBUG):
        fake.schedule["upsert"] = deque(["500", "500"])
        fake.schedule["ticket_create"] = deque(["500"])
        fake.schedule["user_upsert"] = deque(["500"])
        send(tmp_path, fake, batch)
    text = repr(store.attempts()) + caplog.text
    assert "upstream failed" in text  # the echoing body was recorded ...
    for secret in (HUBSPOT_TOKEN, ZENDESK_TOKEN):
        assert secret not in text  # ... with the credentials redacted


def test_daily_cap_holds_the_rest(tmp_path):
    store, batch = planned(tmp_path, proposals(5, 0))
    contract = CONTRACT.__class__(**{**CONTRACT.__dict__,
                                     "remediation": RemediationRule(100, 3)})  # fmt: skip
    with FakeWrites() as fake:
        report = send(tmp_path, fake, batch, contract)
        assert report.sent == 3 and report.deferred_by_cap == 2
        assert len(fake.contacts) == 3


def test_throughput_against_the_rate_limited_fake(tmp_path, record_property):
    # HubSpot's 100 requests per 10 s, scaled to 10 per 1 s so the limit binds within seconds
    # (benchmarks/remediation.py runs the unscaled window); 2,500 contacts are 25 requests.
    n = 2500
    store, batch = planned(tmp_path, proposals(n, 0))
    unlimited = CONTRACT.__class__(**{**CONTRACT.__dict__,
                                      "remediation": RemediationRule(100, 100_000)})  # fmt: skip
    with FakeWrites(limit=10, window_s=1.0) as fake:
        started = time.monotonic()
        # Production's six tries per request (HttpSettings' default), so a window that is still
        # full after a Retry-After wait does not end the round.
        report = send(tmp_path, fake, batch, unlimited, replace(FAST, max_attempts=6))
        elapsed = time.monotonic() - started
        limited = sum(1 for r in fake.log if r.status == 429)
    per_minute = n / elapsed * 60
    record_property("contacts_per_minute", round(per_minute))
    print(f"remediation throughput: {n} contacts in {elapsed:.2f} s = {per_minute:,.0f}/min")
    assert report.sent == n and len(fake.contacts) == n
    assert limited > 0  # the rate limit did bind
    assert per_minute >= 500


def test_batches_never_exceed_100_inputs(tmp_path):
    store, batch = planned(tmp_path, proposals(250, 0))
    with FakeWrites() as fake:
        report = send(tmp_path, fake, batch)
    assert report.sent == 250
    assert [r.status for r in fake.log if r.endpoint == "upsert"] == [200, 200, 200]
