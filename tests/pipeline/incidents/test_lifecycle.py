"""Incident lifecycle on a real DuckDB warehouse and the SQLite store: open once, keep, resolve,
reopen; ops.incidents mirrors it; the published Parquet path gives the same answers."""

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


@pytest.fixture
def stack(tmp_path: Path) -> tuple[Path, Path]:
    warehouse = tmp_path / "lead_parity.duckdb"
    others = [  # outside the scope of a crm incident on DAY: never sampled for it
        {**r, "dropped_at_hop": "marketing"} for r in dropped_at_crm(5, prefix="mkt")
    ] + dropped_at_crm(5, day=DAY.replace(day=9), prefix="yesterday")
    write_dropped(warehouse, dropped_at_crm(12) + others)
    return warehouse, tmp_path / "history"


def _run(stack, evaluated_at, rows, run_url=RUN):
    warehouse, history = stack
    write_evaluation(warehouse, rows)
    return evaluate_in_run(warehouse, history, load_contract(), run_url=run_url, env={})


def test_breach_opens_one_incident_with_figures_samples_owner_tag_and_run_link(stack):
    result, mirrored = _run(stack, at(12), [parity_row(at(12), dropped=12)])  # 3.0 %
    assert len(result.opened) == 1 and mirrored == 1
    (inc,) = read_incidents(stack[0])
    assert inc["status"] == "open" and inc["severity"] == "warning"
    assert (inc["expected"], inc["dropped"]) == (400, 12)
    assert inc["discrepancy_pct"] == pytest.approx(3.0)
    assert inc["owner"] == "platform" and inc["tags"] == TAGS and inc["run_url"] == RUN
    assert inc["conversion_date"] == DAY and inc["hop"] == "crm"
    # Up to 10 samples from rpt_dropped_leads of that day and hop, highest intent first; ids
    # with quotes survive.
    assert len(inc["sample_conversion_ids"]) == 10
    assert inc["sample_conversion_ids"][0] == "m'011"
    assert all(i.startswith("m'") for i in inc["sample_conversion_ids"])
    assert inc["opened_at"].isoformat() == "2026-10-12T10:00:00"


def test_a_second_run_with_the_breach_still_there_opens_nothing_new(stack):
    _run(stack, at(12), [parity_row(at(12), dropped=12)])
    again, _ = _run(stack, at(12), [parity_row(at(12), dropped=12)])  # same evaluation
    assert again.skipped == "already applied"
    later, _ = _run(stack, at(13), [parity_row(at(13), dropped=14)])  # later, still breached
    assert later.opened == [] and later.resolved == []
    (inc,) = read_incidents(stack[0])
    assert inc["status"] == "open" and inc["dropped"] == 14  # figures follow the latest run


def test_resolve_after_recovery_and_reopen_as_a_new_incident_after_relapse(stack):
    first, _ = _run(stack, at(12), [parity_row(at(12), dropped=12)])
    healed, _ = _run(stack, at(13), [parity_row(at(13), dropped=0)])
    assert healed.resolved == first.opened
    relapse, _ = _run(stack, at(14), [parity_row(at(14), dropped=9)])
    assert len(relapse.opened) == 1 and relapse.opened != first.opened
    rows = read_incidents(stack[0])
    assert [r["status"] for r in rows] == ["resolved", "open"]
    assert rows[0]["resolved_at"].isoformat() == "2026-10-13T10:00:00"
    assert rows[0]["dedup_key"] == rows[1]["dedup_key"]


def test_escalation_to_critical_keeps_the_incident_and_adds_one_event(stack):
    _run(stack, at(12), [parity_row(at(12), dropped=12)])
    worse, _ = _run(stack, at(13), [parity_row(at(13), dropped=40)])  # 10 %
    assert worse.opened == [] and len(worse.escalated) == 1
    (inc,) = read_incidents(stack[0])
    assert inc["severity"] == "critical" and "postmortem" in inc["advice"]
    better, _ = _run(stack, at(14), [parity_row(at(14), dropped=12)])  # back to warning level
    assert better.escalated == [] and read_incidents(stack[0])[0]["severity"] == "critical"
    kinds = [e["kind"] for e in IncidentStore.in_history(stack[1]).outbox()]
    assert kinds == []  # no sink configured: no delivery rows, the incident is still recorded


def test_an_older_evaluation_never_rewinds_the_lifecycle(stack, tmp_path):
    _run(stack, at(13), [parity_row(at(13), dropped=12)])
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
    assert len(result.opened) == 1 and inc["scope"] == f"{DAY}|crm|all|all"
    assert len(inc["sample_conversion_ids"]) == 10


def test_a_replaced_evaluation_with_the_same_as_of_is_applied_again(stack):
    # `lead-parity run --as-of T` again after the CRM was fixed: same evaluated_at, new content.
    first, _ = _run(stack, at(12), [parity_row(at(12), dropped=12)])
    fixed, _ = _run(stack, at(12), [parity_row(at(12), dropped=0)])
    assert fixed.skipped is None and fixed.resolved == first.opened
    broken, _ = _run(stack, at(12), [parity_row(at(12), dropped=12)])
    assert len(broken.opened) == 1 and broken.opened != first.opened
    assert [r["status"] for r in read_incidents(stack[0])] == ["resolved", "open"]
