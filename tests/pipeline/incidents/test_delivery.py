"""Delivery to real HTTP servers on 127.0.0.1 standing in for PagerDuty, Slack and a webhook."""

import logging
import threading
import time
from pathlib import Path

import duckdb
import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.incidents import (
    IncidentStore,
    configured_sinks,
    deliver_after_run,
    deliver_pending,
    evaluate_in_run,
    verify_signature,
    verify_timestamped,
)

from .helpers import (
    DAY,
    FAST,
    Receiver,
    at,
    dropped_at_crm,
    free_port,
    parity_row,
    write_dropped,
    write_evaluation,
)

ROUTING_KEY = "R0UTINGKEYsecret0123456789abcdef"
SLACK_TOKEN = "SLACKt0kenSECRETxyz987"
HOOK_TOKEN = "H00KurlSECRETqwe555"
SIGNING = "whsec_SIGNINGsecret_42"
SECRETS = (ROUTING_KEY, SLACK_TOKEN, HOOK_TOKEN, SIGNING)


@pytest.fixture
def receivers():
    started = {name: Receiver().start() for name in ("pd", "slack", "hook")}
    started["slack"].default_status = 200
    started["hook"].default_status = 200
    yield started
    for r in started.values():
        r.stop()


def _env(pd_port: int, slack_port: int, hook_port: int) -> dict[str, str]:
    return {
        "LEAD_PARITY_PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
        "LEAD_PARITY_PAGERDUTY_URL": f"http://127.0.0.1:{pd_port}/v2/enqueue",
        "LEAD_PARITY_SLACK_WEBHOOK_URL": f"http://127.0.0.1:{slack_port}/services/T0/B0/"
        f"{SLACK_TOKEN}",
        "LEAD_PARITY_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/hook?token={HOOK_TOKEN}",
        "LEAD_PARITY_WEBHOOK_SECRET": SIGNING,
        "LEAD_PARITY_DAGSTER_URL": "http://dagster.example:3000",
    }


@pytest.fixture
def env(receivers) -> dict[str, str]:
    return _env(receivers["pd"].port, receivers["slack"].port, receivers["hook"].port)


@pytest.fixture
def stack(tmp_path: Path) -> tuple[Path, Path]:
    warehouse = tmp_path / "lead_parity.duckdb"
    write_dropped(warehouse, dropped_at_crm(12))
    return warehouse, tmp_path / "history"


def cycle(stack, evaluated_at, dropped: int, env: dict[str, str], run_id: str = "run-1"):
    """One pipeline run's worth: evaluation written, in-run asset step, CLI delivery."""
    warehouse, history = stack
    write_evaluation(warehouse, [parity_row(evaluated_at, dropped=dropped)])
    evaluate_in_run(warehouse, history, load_contract(), run_url=f"http://x/runs/{run_id}", env=env)
    return deliver_after_run(warehouse, load_contract(), run_id=run_id, env=env, settings=FAST)


def _pd_actions(receiver: Receiver) -> list[str]:
    return [r.json()["event_action"] for r in receiver.accepted()]


def test_trigger_no_duplicate_resolve_and_reopen_reach_every_sink_once(stack, env, receivers):
    pd, slack, hook = receivers["pd"], receivers["slack"], receivers["hook"]
    report = cycle(stack, at(12), 24, env)
    assert report.delivery.delivered == {"pagerduty": 1, "slack": 1, "webhook": 1}
    body = pd.requests[0].json()
    assert body["event_action"] == "trigger" and body["routing_key"] == ROUTING_KEY
    dedup = body["dedup_key"]
    assert body["payload"]["severity"] == "critical"  # warnings never reach the pager
    assert body["payload"]["custom_details"]["owner"] == "platform"
    assert len(body["payload"]["custom_details"]["sample_conversion_ids"]) == 10
    assert body["links"][0]["href"] == "http://x/runs/run-1"
    assert "Incident opened" in slack.requests[0].json()["text"]
    assert "24 of 400" in slack.requests[0].json()["text"]
    assert hook.requests[0].json()["event_type"] == "incident.triggered"

    cycle(stack, at(13), 24, env)  # still breached: nothing new anywhere
    assert (len(pd.requests), len(slack.requests), len(hook.requests)) == (1, 1, 1)

    cycle(stack, at(14), 0, env)  # recovered
    assert _pd_actions(pd) == ["trigger", "resolve"]
    assert pd.requests[1].json()["dedup_key"] == dedup
    assert "Incident resolved" in slack.requests[1].json()["text"]
    assert hook.requests[1].json()["event_type"] == "incident.resolved"

    cycle(stack, at(15), 24, env)  # relapse: a new episode, so a new PagerDuty dedup_key
    assert _pd_actions(pd) == ["trigger", "resolve", "trigger"]
    first, last = hook.requests[0].json(), hook.requests[2].json()
    assert first["dedup_key"] == dedup != last["dedup_key"]
    assert first["incident"]["incident_id"] != last["incident"]["incident_id"]
    for r in (pd, slack, hook):
        keys = [q.headers["Idempotency-Key"] for q in r.requests]
        assert len(keys) == len(set(keys)) == 3  # three events, each seen exactly once


def test_a_sink_answering_500_three_times_then_202_gets_the_event_once(stack, env, receivers):
    pd = receivers["pd"]
    pd.script = [(500, {}, 0.0)] * 3
    report = cycle(stack, at(12), 24, env)
    assert report.delivery.delivered["pagerduty"] == 1
    assert [r.status for r in pd.requests] == [500, 500, 500, 202]
    assert len({r.headers["Idempotency-Key"] for r in pd.requests}) == 1
    assert len(pd.accepted()) == 1
    cycle(stack, at(13), 24, env)
    assert len(pd.accepted()) == 1 and len(pd.requests) == 4


def test_a_sink_down_for_a_whole_run_gets_its_events_next_run_in_order(stack, receivers):
    port = free_port()  # nothing listens here during the first two runs
    env = _env(port, receivers["slack"].port, receivers["hook"].port)
    first = cycle(stack, at(12), 24, env)
    assert first.delivery.pending == {"pagerduty": 1}
    assert any("connection refused" in e for e in first.delivery.errors)
    second = cycle(stack, at(13), 0, env)  # recovers while PagerDuty is still down
    assert second.delivery.pending == {"pagerduty": 2}
    pd = Receiver().start(port)
    try:
        third = cycle(stack, at(14), 0, env)
        assert third.delivery.delivered == {"pagerduty": 2} and third.delivery.pending == {}
        assert _pd_actions(pd) == ["trigger", "resolve"]  # never a resolve before its trigger
    finally:
        pd.stop()
    assert len(receivers["slack"].requests) == 2  # the healthy sinks were not held back


def test_a_429_with_retry_after_is_honoured(stack, env, receivers):
    slack = receivers["slack"]
    slack.script = [(429, {"Retry-After": "2"}, 0.0)]
    report = cycle(stack, at(12), 24, env)
    assert report.delivery.delivered["slack"] == 1
    assert [r.status for r in slack.requests] == [429, 200]
    waited = slack.requests[1].at - slack.requests[0].at
    assert waited >= 1.9  # backoff alone would have waited about 0.05 s


def test_a_read_timeout_is_retried_with_the_same_event_id(stack, env, receivers):
    hook = receivers["hook"]
    hook.script = [(200, {}, FAST.read_timeout_s + 1.0)]  # answers after the client gave up
    report = cycle(stack, at(12), 24, env)
    assert report.delivery.delivered["webhook"] == 1
    ids = [r.headers["Idempotency-Key"] for r in hook.requests]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert len(hook.accepted()) == 1  # the receiver dedupes by event id: seen once


def test_the_webhook_signature_verifies_and_a_tampered_body_does_not(stack, env, receivers):
    cycle(stack, at(12), 24, env)
    req = receivers["hook"].requests[0]
    header = req.headers["X-Lead-Parity-Signature"]
    assert header.startswith("sha256=")
    assert verify_signature(req.body, header, SIGNING)
    assert not verify_signature(req.body.replace(b"parity", b"parrot"), header, SIGNING)
    assert not verify_signature(req.body, header, "another secret")
    assert req.headers["X-Lead-Parity-Event-Id"] == req.json()["event_id"]


def test_the_timestamped_signature_verifies_and_rejects_replays_and_tampering(
    stack, env, receivers
):
    sent_at = time.time()
    cycle(stack, at(12), 24, env)
    req = receivers["hook"].requests[0]
    header = req.headers["Lead-Parity-Signature"]
    t = int(header.split(",")[0].removeprefix("t="))
    assert abs(t - sent_at) < 60 and header.split(",")[1].startswith("v1=")
    assert verify_timestamped(req.body, header, SIGNING)
    # A captured delivery replayed ten minutes later is refused, so is a re-dated one.
    assert not verify_timestamped(req.body, header, SIGNING, now=t + 600)
    forged = header.replace(f"t={t}", f"t={t + 600}")
    assert not verify_timestamped(req.body, forged, SIGNING, now=t + 600)
    assert not verify_timestamped(req.body + b" ", header, SIGNING)
    # For one release the body-only header is still sent for receivers written against it.
    assert verify_signature(req.body, req.headers["X-Lead-Parity-Signature"], SIGNING)
    # The ten-line receiver of docs/incidents.md, as written there, agrees.
    doc = (Path(__file__).resolve().parents[3] / "docs" / "incidents.md").read_text()
    snippet = doc.split("A receiver, in ten lines:\n\n```python\n", 1)[1].split("```", 1)[0]
    assert len(snippet.strip().splitlines()) <= 10
    scope: dict = {}
    exec(compile(snippet, "docs/incidents.md", "exec"), scope)  # noqa: S102 - our own docs
    assert scope["verify"](req.body, header, SIGNING)
    assert not scope["verify"](req.body, forged, SIGNING)
    assert not scope["verify"](req.body.replace(b"parity", b"parrot"), header, SIGNING)


def test_no_secret_shows_up_in_logs_errors_summary_or_stored_files(
    stack, env, receivers, caplog, capfd
):
    caplog.set_level(logging.DEBUG)  # urllib3's debug lines carry request paths
    receivers["slack"].script = [(500, {}, 0.0)] * 10  # fails the whole pass
    receivers["hook"].script = [(403, {}, 0.0)]
    down = _env(receivers["pd"].port, receivers["slack"].port, free_port())
    reports = [cycle(stack, at(12), 24, env), cycle(stack, at(13), 0, down)]
    texts = [caplog.text, *capfd.readouterr()]
    for report in reports:
        texts += report.lines() + report.delivery.errors
    texts.append(str(configured_sinks(env, FAST)))
    warehouse, history = stack
    for path in history.iterdir():
        texts.append(path.read_bytes().decode("utf-8", "replace"))
    con = duckdb.connect(str(warehouse), read_only=True)
    texts.append(str(con.execute("select * from ops.incidents").fetchall()))
    con.close()
    assert any("HTTP 500" in t for t in texts) and any("retrying" in t for t in texts)
    assert "<redacted>" in caplog.text  # urllib3 did log the Slack path, and it was masked
    for secret in SECRETS:
        assert not any(secret in t for t in texts), f"secret leaked: {secret[:4]}..."
    # The routing key travels only where PagerDuty's API puts it: in PagerDuty's body.
    assert all(r.json()["routing_key"] == ROUTING_KEY for r in receivers["pd"].requests)
    assert not any(ROUTING_KEY.encode() in r.body for r in receivers["slack"].requests)


def test_two_delivery_passes_at_once_send_each_event_once(stack, env, receivers):
    warehouse, history = stack
    contract = load_contract()
    for day in range(12, 16):  # 4 events: trigger, resolve, trigger, resolve
        write_evaluation(warehouse, [parity_row(at(day), dropped=24 if day % 2 == 0 else 0)])
        evaluate_in_run(warehouse, history, contract, run_url=None, env=env)
    pd = receivers["pd"]
    pd.script = [(202, {}, 0.2)] * 4
    store = IncidentStore.in_history(history)
    sinks = [s for s in configured_sinks(env, FAST) if s.name == "pagerduty"]
    threads = [
        threading.Thread(target=deliver_pending, args=(store, sinks), kwargs={"settings": FAST})
        for _ in range(2)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert time.monotonic() - started < 30
    # Two episodes (two dedup_keys): each in order, trigger before resolve, each sent once.
    by_key: dict[str, list[str]] = {}
    for r in pd.accepted():
        by_key.setdefault(r.json()["dedup_key"], []).append(r.json()["event_action"])
    assert list(by_key.values()) == [["trigger", "resolve"], ["trigger", "resolve"]]
    assert len(pd.requests) == 4


def test_without_any_sink_incidents_still_land_and_are_summarised(stack):
    report = cycle(stack, at(12), 12, env={})
    assert report.delivery.delivered == {} and report.delivery.pending == {}
    assert len(report.open_incidents) == 1
    assert report.lines()[0].startswith("incidents: 1 open (0 critical)")
    assert IncidentStore.in_history(stack[1]).outbox() == []


def test_an_unusable_sink_variable_is_reported_by_name_and_the_other_sinks_still_deliver(
    stack, env, receivers
):
    bad = {**env, "LEAD_PARITY_SLACK_WEBHOOK_URL": "hooks.slack.com/services/" + SLACK_TOKEN}
    report = cycle(stack, at(12), 24, bad)
    assert report.delivery.delivered == {"pagerduty": 1, "webhook": 1}
    assert report.delivery.unconfigured == {"slack": 1}  # kept until the variable is fixed
    text = "\n".join(report.lines())
    assert "LEAD_PARITY_SLACK_WEBHOOK_URL is not an http(s) URL" in text
    assert SLACK_TOKEN not in text
    fixed = cycle(stack, at(13), 24, env)
    assert fixed.delivery.delivered == {"slack": 1}
    assert "Incident opened" in receivers["slack"].requests[0].json()["text"]


def test_past_its_time_budget_a_pass_starts_no_event_and_leaves_it_due(stack, env, receivers):
    warehouse, history = stack
    write_evaluation(warehouse, [parity_row(at(12), dropped=24)])
    evaluate_in_run(warehouse, history, load_contract(), run_url=None, env=env)
    store = IncidentStore.in_history(history)
    sinks = configured_sinks(env, FAST)
    report = deliver_pending(store, sinks, settings=FAST, budget_s=0.0)
    assert report.delivered == {} and receivers["pd"].requests == []
    assert store.pending_due(["pagerduty", "slack", "webhook"]) == 3
    report = deliver_pending(store, sinks, settings=FAST, due_only=True)
    assert report.delivered == {"pagerduty": 1, "slack": 1, "webhook": 1}


def test_an_unreadable_published_snapshot_does_not_stop_delivery(stack, env, receivers):
    warehouse, history = stack
    write_evaluation(warehouse, [parity_row(at(12), dropped=24)])
    evaluate_in_run(warehouse, history, load_contract(), run_url=None, env=env)
    broken = warehouse.parent / "published" / "ops"
    broken.mkdir(parents=True)
    (broken / "slo_evaluations.parquet").write_bytes(b"not parquet")
    report = deliver_after_run(warehouse, load_contract(), run_id="r", env=env, settings=FAST)
    assert report.delivery.delivered == {"pagerduty": 1, "slack": 1, "webhook": 1}
    assert any("published snapshot skipped" in line for line in report.lines())


def test_a_first_run_over_history_pages_once_per_hop_and_sends_one_digest(stack, env, receivers):
    """Two weeks of a leaky CRM and marketing hop, first seen on day 16: the old episodes go
    into one digest (Slack and webhook only); the current ones page once per rule and hop."""
    warehouse, history = stack
    evaluated = at(16, 6)
    rows = []
    for n in range(1, 15):
        day = DAY.replace(day=n)
        rows.append(parity_row(evaluated, day=day, dropped=0 if n in (4, 9) else 40))
        rows.append(parity_row(evaluated, day=day, hop="marketing", dropped=40 if n < 6 else 0))
        # A critical slice of the CRM total on the latest day: rides on the hop's page.
        rows.append(
            parity_row(
                evaluated, day=day, conversion_type="demo_request", origin="google_ads",
                expected=60, dropped=6 if n == 14 else 0,
            )
        )  # fmt: skip
    write_evaluation(warehouse, rows)
    evaluate_in_run(warehouse, history, load_contract(), run_url="http://x/runs/r", env=env)
    report = deliver_after_run(warehouse, load_contract(), run_id="r", env=env, settings=FAST)
    pd, slack, hook = receivers["pd"], receivers["slack"], receivers["hook"]
    assert [r.json()["dedup_key"] for r in pd.accepted()] == [
        "lead-parity/parity/crm|all|all/2026-10-10"
    ]
    digests = [r.json() for r in hook.accepted() if r.json()["event_type"] == "incidents.digest"]
    assert len(digests) == 1
    digest = digests[0]["digest"]
    # crm 1-3, crm 5-8 and marketing 1-5: all history, all resolved, none paged.
    assert digest["incidents"] == 3 and digest["still_open"] == 0
    assert sum("lead-parity digest" in r.json()["text"] for r in slack.accepted()) == 1
    triggers = [r.json() for r in hook.accepted() if r.json()["event_type"] == "incident.triggered"]
    assert sorted(t["incident"]["scope"] for t in triggers) == [
        "crm|all|all",
        "crm|demo_request|google_ads",
    ]
    assert report.delivery.pending == {}
    # The same day run again: nothing new anywhere.
    before = (len(pd.requests), len(slack.requests), len(hook.requests))
    evaluate_in_run(warehouse, history, load_contract(), run_url=None, env=env)
    deliver_after_run(warehouse, load_contract(), run_id="r2", env=env, settings=FAST)
    assert (len(pd.requests), len(slack.requests), len(hook.requests)) == before


def test_a_store_of_the_day_per_incident_version_keeps_its_rows_and_delivers_its_outbox(
    tmp_path, env, receivers
):
    import json
    import sqlite3

    path = tmp_path / "history" / "incidents.sqlite"
    path.parent.mkdir()
    old = {
        "incident_id": "inc_0123456789abcdef0123", "dedup_key": "lead-parity/parity/x",
        "rule": "parity", "severity": "critical", "status": "open",
        "scope": "2026-10-10|crm|all|all",
        "conversion_date": "2026-10-10", "conversion_type": "all", "origin": "all", "hop": "crm",
        "opened_at": "2026-10-12T10:00:00.000000Z", "resolved_at": None,
        "last_evaluated_at": "2026-10-12T10:00:00.000000Z", "expected": 400, "dropped": 40,
        "discrepancy_pct": 10.0, "observed": 10.0, "threshold": 1.0,
        "sample_conversion_ids": [], "owner": "platform", "tags": "t", "run_url": None,
        "advice": "a", "summary": "s",
    }  # fmt: skip
    con = sqlite3.connect(path)
    con.executescript(
        "create table incidents (incident_id text primary key, dedup_key text, rule text, "
        "status text);"
        "create unique index incidents_one_open on incidents (dedup_key) where status = 'open';"
        "create table events (seq integer primary key autoincrement, event_id text not null "
        "unique, incident_id text not null, dedup_key text not null, kind text not null, "
        "created_at text not null, payload text not null);"
        "create table deliveries (id integer primary key, event_id text not null, sink text not "
        "null, attempts integer not null default 0, last_error text, last_status integer, "
        "next_attempt_at text not null, delivered_at text, lease_owner text, lease_until text, "
        "unique (event_id, sink));"
    )
    con.execute("insert into incidents values (?, ?, 'parity', 'open')", [old["incident_id"], "k"])
    payload = {
        "event_id": "e-1",
        "kind": "trigger",
        "occurred_at": old["opened_at"],
        "incident": old,
    }
    con.execute(
        "insert into events (event_id, incident_id, dedup_key, kind, created_at, payload) "
        "values ('e-1', ?, 'lead-parity/parity/x', 'trigger', ?, ?)",
        [old["incident_id"], old["opened_at"], json.dumps(payload)],
    )
    con.execute(
        "insert into deliveries (event_id, sink, next_attempt_at) values ('e-1', 'pagerduty', "
        "'2026-01-01T00:00:00.000000Z')"
    )
    con.commit()
    con.close()
    store = IncidentStore(path)
    assert store.incidents() == []  # episodes start fresh...
    con = sqlite3.connect(path)
    assert con.execute("select count(*) from incidents_v1").fetchone()[0] == 1  # ...kept aside
    con.close()
    sinks = [s for s in configured_sinks(env, FAST) if s.name == "pagerduty"]
    report = deliver_pending(store, sinks, settings=FAST)
    assert report.delivered == {"pagerduty": 1}
    body = receivers["pd"].requests[0].json()
    assert body["dedup_key"] == "lead-parity/parity/x"
    assert body["payload"]["custom_details"]["first_breach_date"] is None
