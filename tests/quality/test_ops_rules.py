"""Dead letters, quarantine and the integrity suites on hand-built tables: a passing case, a
failing case, and a contract edit that flips the outcome with no code change."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from expectations.frames import QualityInputError

from .warehouse_builder import AS_OF, DAY

MORNING = DAY + timedelta(hours=10)


def test_replayed_dead_letters_pass(warehouse, judge):
    cid = warehouse.conversion()
    warehouse.receipt(cid, "crm", "failed", MORNING)
    warehouse.receipt(cid, "crm", "dead_lettered", MORNING + timedelta(minutes=5))
    warehouse.receipt(cid, "crm", "replayed", MORNING + timedelta(hours=2))

    outcome = judge("dead_letters")

    assert outcome.passed
    (unit,) = outcome.units.itertuples()
    assert (unit.scope, unit.expected, unit.observed) == ("2026-10-10|crm", 1, 0.0)


def test_dead_letters_never_replayed_are_named_per_day_and_hop(warehouse, judge):
    parked = warehouse.conversion()
    warehouse.receipt(parked, "crm", "dead_lettered", MORNING)
    replay_too_late = warehouse.conversion()
    warehouse.receipt(replay_too_late, "enrichment", "dead_lettered", MORNING)
    warehouse.receipt(replay_too_late, "enrichment", "replayed", AS_OF + timedelta(hours=1))
    fine = warehouse.conversion()
    warehouse.receipt(fine, "crm", "dead_lettered", MORNING)
    warehouse.receipt(fine, "crm", "replayed", MORNING + timedelta(hours=1))

    outcome = judge("dead_letters")

    assert not outcome.passed
    assert set(outcome.breached["scope"]) == {"2026-10-10|crm", "2026-10-10|enrichment"}
    crm = outcome.units.set_index("scope").loc["2026-10-10|crm"]
    assert (crm["expected"], crm["observed"]) == (2, 1.0)
    assert f'["{parked}"]' in crm["details"]


def test_no_quarantined_record_passes(warehouse, judge):
    outcome = judge("quarantine")

    assert outcome.passed
    assert outcome.units[["scope", "observed", "threshold"]].values.tolist() == [["all", 0.0, 0.0]]


def test_quarantined_records_above_the_limit_warn(warehouse, judge, contract_with):
    warehouse.quarantine(2, source="segment", reason="not JSON")
    warehouse.quarantine(1, source="receipts", reason="missing key outcome")

    outcome = judge("quarantine")

    assert not outcome.passed
    assert outcome.breached.iloc[0]["observed"] == 3.0
    assert (
        '"reason": "not JSON", "records": 2, "source": "segment"'
        in outcome.breached.iloc[0]["details"]
    )
    assert judge("quarantine", contract_with(quarantined_records=3)).passed


def test_unique_conversion_ids_pass_and_duplicates_fail(warehouse, judge):
    warehouse.conversion("m1")
    warehouse.conversion("m2")
    assert judge("conversion_id_unique").passed

    warehouse.conversion("m2")
    outcome = judge("conversion_id_unique")

    assert not outcome.passed
    assert outcome.breached["conversion_id"].tolist() == ["m2"]


def test_a_balanced_ledger_passes_and_a_leaking_file_fails(warehouse, judge):
    warehouse.ledger("segment", "a.jsonl", read=10, loaded=7, quarantined=2, duplicates=1)
    assert judge("ledger_balanced").passed

    warehouse.ledger("receipts", "b.jsonl", read=10, loaded=8, quarantined=1, duplicates=0)
    outcome = judge("ledger_balanced")

    assert not outcome.passed
    assert outcome.breached[["source", "file"]].values.tolist() == [["receipts", "b.jsonl"]]


@pytest.mark.parametrize("rule", ["parity", "median_assignment_latency", "dead_letters"])
def test_an_empty_stack_judges_nothing_and_passes(warehouse, judge, rule):
    outcome = judge(rule)

    assert outcome.passed
    assert outcome.units.empty


def test_a_missing_mart_is_a_clear_error_naming_the_table(warehouse, judge):
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("drop table marts.fct_hop_parity_daily")

    with pytest.raises(QualityInputError, match="marts.fct_hop_parity_daily is missing"):
        judge("parity")
