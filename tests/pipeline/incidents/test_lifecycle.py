"""Incident lifecycle on a real DuckDB warehouse and the SQLite store: final days only, one
incident per episode, extended by the next breached day, resolved once, history in a digest;
ops.incidents and ops.incident_events mirror it; the published Parquet path gives the same."""

from datetime import date
from pathlib import Path

import duckdb
import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.incidents import TAGS, IncidentStore, evaluate_in_run
from lead_parity.pipeline.incidents.deliver import evaluate
from lead_parity.pipeline.incidents.source import published_source

from .helpers import (
    DAY,
    at,
    dropped_at_crm,
    parity_row,
    read_incidents,
    write_dropped,
    write_evaluation,
)

RUN = "http://localhost:3000/runs/r1"
SINKS = {"LEAD_PARITY_SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook"}  # recorded, not sent here


def day(n: int) -> date:
    return DAY.replace(day=n)


@pytest.fixture
def stack(tmp_path: Path) -> tuple[Path, Path]:
    warehouse = tmp_path / "lead_parity.duckdb"
    others = [  # outside the scope of a crm incident on DAY: never sampled for it
        {**r, "dropped_at_hop": "marketing"} for r in dropped_at_crm(5, prefix="mkt")
    ] + dropped_at_crm(5, day=day(9), prefix="yesterday")
    write_dropped(warehouse, dropped_at_crm(12) + others)
    return warehouse, tmp_path / "history"


def _run(stack, evaluated_at, rows, run_url=RUN, env=None):
    warehouse, history = stack
    write_evaluation(warehouse, rows)
    return evaluate_in_run(warehouse, history, load_contract(), run_url=run_url, env=env or {})


def _events(warehouse: Path) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select incident_id, actor, action from ops.incident_events order by event_seq"
        ).fetchall()
    finally:
        con.close()


def test_breach_opens_one_incident_with_figures_samples_owners_tag_and_run_link(stack):
    result, mirrored = _run(stack, at(12), [parity_row(at(12), dropped=12)])  # 3.0 %
    assert len(result.opened) == 1 and mirrored == 1 and result.digest == []
    (inc,) = read_incidents(stack[0])
    assert inc["status"] == "open" and inc["severity"] == "warning"
    assert (inc["expected"], inc["dropped"]) == (400, 12)
    assert inc["discrepancy_pct"] == pytest.approx(3.0)
    assert inc["owner"] == "platform" and inc["escalation_owner"] == "cro"
    assert inc["tags"] == TAGS and inc["run_url"] == RUN
    assert inc["first_breach_date"] == inc["last_breach_date"] == DAY
    assert inc["days_breached"] == 1 and inc["hop"] == "crm" and inc["scope"] == "crm|all|all"
    assert inc["notified"] == "chat"  # a warning: Slack and the webhook, never the pager
    assert inc["incident_id"].startswith("inc-") and len(inc["incident_id"]) == 12
    # Up to 10 samples from rpt_dropped_leads of that day and hop, highest intent first; ids
    # with quotes survive.
    assert len(inc["sample_conversion_ids"]) == 10
    assert inc["sample_conversion_ids"][0] == "m'011"
    assert all(i.startswith("m'") for i in inc["sample_conversion_ids"])
    assert inc["opened_at"].isoformat() == "2026-10-12T10:00:00"
    assert _events(stack[0]) == [
        (inc["incident_id"], "lead-parity", "opened"),
        (inc["incident_id"], "lead-parity", "notified"),
    ]


def test_a_day_that_is_not_final_yet_opens_nothing(stack):
    # Day 11 at 2026-10-12 10:00: its evening conversions may still reach the CRM.
    result, _ = _run(stack, at(12), [parity_row(at(12), day=day(11), dropped=40)])
    assert result.opened == [] and read_incidents(stack[0]) == []


def test_the_same_evaluation_twice_does_nothing_and_a_worse_rerun_keeps_the_worst_figures(stack):
    _run(stack, at(12), [parity_row(at(12), dropped=12)])
    again, _ = _run(stack, at(12), [parity_row(at(12), dropped=12)])  # same evaluation
    assert again.skipped == "already applied"
    later, _ = _run(stack, at(12, 18), [parity_row(at(12, 18), dropped=14)])  # late data
    assert later.opened == [] and later.resolved == [] and later.notified == []
    (inc,) = read_incidents(stack[0])
    assert inc["status"] == "open" and inc["dropped"] == 14 and inc["days_breached"] == 1


def test_the_next_breached_final_day_extends_the_episode_and_recovery_resolves_it_once(stack):
    first, _ = _run(stack, at(12), [parity_row(at(12), dropped=12)])
    second, _ = _run(
        stack,
        at(13),
        [parity_row(at(13), day=DAY, dropped=12), parity_row(at(13), day=day(11), dropped=8)],
    )
    assert second.opened == [] and second.notified == []
    (inc,) = read_incidents(stack[0])
    assert (inc["first_breach_date"], inc["last_breach_date"]) == (day(10), day(11))
    assert inc["days_breached"] == 2 and inc["dropped"] == 12  # the worst day's figures
    rows = [parity_row(at(14), day=DAY, dropped=12), parity_row(at(14), day=day(11), dropped=8)]
    healed, _ = _run(stack, at(14), [*rows, parity_row(at(14), day=day(12), dropped=0)])
    assert healed.resolved == first.opened
    rows = [r | {"evaluated_at": at(15)} for r in rows]
    still, _ = _run(
        stack,
        at(15),
        [
            *rows,
            parity_row(at(15), day=day(12), dropped=0),
            parity_row(at(15), day=day(13), dropped=1),
        ],
    )
    assert still.resolved == [] and still.opened == []  # resolved once; day 13 is healthy
    (inc,) = read_incidents(stack[0])
    assert inc["status"] == "resolved" and inc["resolved_at"].isoformat() == "2026-10-14T10:00:00"
    assert inc["resolved_by"] == "lead-parity"


def test_a_new_breach_after_the_resolution_opens_a_new_episode(stack):
    first, _ = _run(stack, at(12), [parity_row(at(12), dropped=12)])
    _run(stack, at(13), [parity_row(at(13), day=day(11), dropped=0)])
    relapse, _ = _run(stack, at(14), [parity_row(at(14), day=day(12), dropped=9)])
    assert len(relapse.opened) == 1 and relapse.opened != first.opened
    rows = read_incidents(stack[0])
    assert [r["status"] for r in rows] == ["resolved", "open"]
    # One PagerDuty dedup_key per episode: the scope and its first breached day.
    assert rows[0]["dedup_key"] == "lead-parity/parity/crm|all|all/2026-10-10"
    assert rows[1]["dedup_key"] == "lead-parity/parity/crm|all|all/2026-10-12"


def test_a_first_run_over_history_records_old_episodes_in_one_digest(stack, tmp_path):
    # 14 days of a leaky hop, as_of on day 16: days up to the 13th are more than 2 days old.
    evaluated = at(16, 6)
    rows = [
        parity_row(evaluated, day=day(n), dropped=0 if n in (4, 8) else 12) for n in range(1, 15)
    ]
    result, _ = _run(stack, evaluated, rows, env=SINKS)
    incidents = read_incidents(stack[0])
    # Episodes: 1-3 (resolved by day 4), 5-7 (resolved by day 8), 9-14 (still open, paged).
    assert [(i["first_breach_date"].day, i["last_breach_date"].day, i["status"]) for i in
            incidents] == [(1, 3, "resolved"), (5, 7, "resolved"), (9, 14, "open")]  # fmt: skip
    assert [i["notified"] for i in incidents] == ["digest", "digest", "chat"]
    assert len(result.digest) == 2 and len(result.notified) == 1  # 9-14 reached a recent day
    outbox = IncidentStore.in_history(stack[1]).outbox()
    assert sorted((o["kind"], o["sink"]) for o in outbox) == [
        ("digest", "slack"),
        ("trigger", "slack"),
    ]


def test_a_history_only_first_run_pages_nobody(stack):
    evaluated = at(20)
    rows = [parity_row(evaluated, day=day(n), dropped=40) for n in range(1, 8)]
    result, _ = _run(stack, evaluated, rows, env=SINKS)
    (inc,) = read_incidents(stack[0])
    assert inc["notified"] == "digest" and inc["severity"] == "critical"
    assert result.notified == [] and inc["days_breached"] == 7
    kinds = [o["kind"] for o in IncidentStore.in_history(stack[1]).outbox()]
    assert kinds == ["digest"]


def test_escalation_to_critical_keeps_the_incident_and_adds_one_event(stack):
    _run(stack, at(12), [parity_row(at(12), dropped=12)])
    worse, _ = _run(
        stack,
        at(13),
        [parity_row(at(13), day=DAY, dropped=12), parity_row(at(13), day=day(11), dropped=40)],
    )  # 10 %
    assert worse.opened == [] and len(worse.escalated) == 1
    (inc,) = read_incidents(stack[0])
    assert inc["severity"] == "critical" and "postmortem" in inc["advice"]
    better, _ = _run(stack, at(14), [parity_row(at(14), day=day(12), dropped=12)])  # warning level
    assert better.escalated == [] and read_incidents(stack[0])[0]["severity"] == "critical"
    kinds = [e["kind"] for e in IncidentStore.in_history(stack[1]).outbox()]
    assert kinds == []  # no sink configured: no delivery rows, the incident is still recorded


def test_an_older_evaluation_never_rewinds_the_lifecycle(stack, tmp_path):
    _run(stack, at(13), [parity_row(at(13), day=DAY, dropped=12)])
    # A warehouse rebuilt with an earlier --as-of, sharing the same history folder.
    rebuilt = tmp_path / "rebuilt.duckdb"
    old, _ = _run((rebuilt, stack[1]), at(12), [parity_row(at(12), dropped=0)])
    assert old.skipped and old.skipped.startswith("older")
    assert read_incidents(rebuilt)[0]["status"] == "open"


def test_no_evaluation_table_yet_still_mirrors_an_empty_ops_incidents(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    result, rows = evaluate_in_run(warehouse, tmp_path / "h", load_contract(), run_url=None, env={})
    assert result is None and rows == 0 and read_incidents(warehouse) == []
    assert _events(warehouse) == []


def test_the_published_parquet_path_gives_the_same_incident_without_the_warehouse(stack, tmp_path):
    warehouse, _ = stack
    write_evaluation(
        warehouse, [parity_row(at(12), dropped=12), parity_row(at(12), hop="marketing", dropped=0)]
    )
    published = tmp_path / "published"
    (published / "ops").mkdir(parents=True)
    (published / "marts").mkdir()
    con = duckdb.connect(str(warehouse))
    con.execute(f"copy ops.slo_evaluations to '{published}/ops/slo_evaluations.parquet'")
    con.execute(f"copy marts.rpt_dropped_leads to '{published}/marts/rpt_dropped_leads.parquet'")
    con.close()
    store = IncidentStore(tmp_path / "other.sqlite")
    with published_source(published) as source:
        result = evaluate(source, store, load_contract(), run_url=None, sink_names=[])
    (inc,) = store.incidents("open")
    assert len(result.opened) == 1 and inc["scope"] == "crm|all|all"
    assert len(inc["sample_conversion_ids"]) == 10


def test_a_replaced_evaluation_after_a_fix_resolves_and_the_same_day_does_not_reopen(stack):
    # `lead-parity run --as-of T` again after the CRM was fixed: same evaluated_at, new content.
    first, _ = _run(stack, at(12), [parity_row(at(12), dropped=12)])
    fixed, _ = _run(stack, at(12), [parity_row(at(12), dropped=0)])
    assert fixed.skipped is None and fixed.resolved == first.opened
    # The day flips back: not a new breach after the resolution, so no second incident.
    broken, _ = _run(stack, at(12), [parity_row(at(12), dropped=12)])
    assert broken.opened == []
    assert [r["status"] for r in read_incidents(stack[0])] == ["resolved"]


def _budget(warehouse: Path, alert: str | None) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.fct_parity_budget_daily as select ?::date as "
            "budget_date, 'crm' as hop, 400::bigint as expected, 12::bigint as dropped, "
            "3.0::double as burn_rate_1d, 2.4::double as burn_rate_3d, "
            "-40.0::double as budget_remaining_pct, ?::varchar as burn_alert",
            [DAY, alert],
        )
    finally:
        con.close()


def test_slo_alerting_burn_rate_alerts_on_the_budget_mart_instead_of_daily_breaches(stack):
    from dataclasses import replace

    base = load_contract()
    burn = replace(base, slo=replace(base.slo, alerting="burn_rate"))
    warehouse, history = stack
    _budget(warehouse, "ticket")
    write_evaluation(warehouse, [parity_row(at(12), dropped=12)])  # a daily breach as well
    result, _ = evaluate_in_run(warehouse, history, burn, run_url=None, env={})
    (inc,) = read_incidents(warehouse)
    assert inc["rule"] == "parity_burn" and inc["severity"] == "warning"  # a ticket
    assert "burning at 3x (slow burn, ticket)" in inc["summary"]
    assert inc["owner"] == "platform" and len(inc["sample_conversion_ids"]) == 10
    _budget(warehouse, None)  # the burn stops on the next final day...
    con = duckdb.connect(str(warehouse))
    con.execute("update marts.fct_parity_budget_daily set budget_date = budget_date + 1")
    con.close()
    write_evaluation(warehouse, [parity_row(at(13), dropped=12)])
    healed, _ = evaluate_in_run(warehouse, history, burn, run_url=None, env={})
    assert healed.resolved == result.opened  # ...and the daily breach alone alerts nobody
    assert [i["rule"] for i in read_incidents(warehouse)] == ["parity_burn"]
