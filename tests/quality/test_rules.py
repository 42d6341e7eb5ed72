"""Every non-parity rule on hand-built marts: a passing case, a failing case, and a contract
edit that flips the outcome with no code change."""

from __future__ import annotations

from datetime import timedelta

from .warehouse_builder import AS_OF, DAY

MORNING = DAY + timedelta(hours=10)


def conversions_with_enrichment(warehouse, delivered: int, failed: int, replayed: int = 0):
    for outcome, count in (("delivered", delivered), ("failed", failed), ("replayed", replayed)):
        for _ in range(count):
            cid = warehouse.conversion()
            warehouse.receipt(cid, "enrichment", "failed", MORNING)
            if outcome != "failed":
                warehouse.receipt(cid, "enrichment", outcome, MORNING + timedelta(minutes=5))


def test_enrichment_at_the_floor_passes(warehouse, judge):
    conversions_with_enrichment(warehouse, delivered=98, replayed=1, failed=1)  # 99%
    warehouse.conversion()  # no enrichment receipts: not counted either way

    outcome = judge("enrichment_success")

    assert outcome.passed
    (unit,) = outcome.units.itertuples()
    assert (unit.scope, unit.expected, unit.observed) == ("2026-10-10", 100, 99.0)


def test_enrichment_below_the_floor_warns_and_the_contract_moves_the_floor(
    warehouse, judge, contract_with
):
    conversions_with_enrichment(warehouse, delivered=97, failed=3)

    outcome = judge("enrichment_success")

    assert not outcome.passed
    assert list(outcome.breached["scope"]) == ["2026-10-10"]
    assert outcome.breached.iloc[0]["observed"] == 97.0
    assert judge("enrichment_success", contract_with(enrichment_success_pct=95)).passed


def test_enrichment_receipts_after_as_of_do_not_count(warehouse, judge):
    cid = warehouse.conversion()
    warehouse.receipt(cid, "enrichment", "failed", MORNING)
    warehouse.receipt(cid, "enrichment", "delivered", AS_OF + timedelta(hours=1))

    assert not judge("enrichment_success").passed


def test_median_latency_below_the_limit_passes(warehouse, judge):
    for latency in (60, 200, 290, 5000):
        warehouse.conversion(assignment_latency_s=latency)
    warehouse.conversion()  # never assigned: no latency to take the median of

    outcome = judge("median_assignment_latency")

    assert outcome.passed
    (unit,) = outcome.units.itertuples()
    assert (unit.scope, unit.expected, unit.observed) == ("2026-10-10|demo_request", 4, 245.0)


def test_median_latency_is_judged_per_day_and_type(warehouse, judge, contract_with):
    for latency in (200, 400, 600):
        warehouse.conversion(conversion_type="contact_sales", assignment_latency_s=latency)
    warehouse.conversion(conversion_type="demo_request", assignment_latency_s=100)
    warehouse.conversion(
        conversion_type="contact_sales", converted_at=MORNING + timedelta(days=1),
        assignment_latency_s=100,
    )  # fmt: skip

    outcome = judge("median_assignment_latency")

    assert list(outcome.breached["scope"]) == ["2026-10-10|contact_sales"]
    assert outcome.breached.iloc[0]["observed"] == 400.0
    assert judge("median_assignment_latency", contract_with(median_assignment_latency="10m")).passed


def test_high_intent_conversions_assigned_in_time_pass(warehouse, judge):
    warehouse.conversion(intent_score=90, assignment_latency_s=20 * 60)
    warehouse.conversion(intent_score=10)  # low intent may wait: not judged
    warehouse.conversion(
        intent_score=95, converted_at=AS_OF - timedelta(minutes=10)
    )  # not late yet

    outcome = judge("high_intent_unassigned")

    assert outcome.passed
    assert outcome.units[["scope", "expected", "observed"]].values.tolist() == [
        ["2026-10-10|demo_request", 1, 0.0],
        ["2026-10-12|demo_request", 1, 0.0],
    ]


def test_high_intent_conversions_left_unassigned_are_named(warehouse, judge, contract_with):
    waiting = warehouse.conversion("it's-m1", intent_score=90)  # ids may hold quotes
    late = warehouse.conversion(intent_score=85, assignment_latency_s=45 * 60)
    warehouse.conversion(intent_score=99, assignment_latency_s=60)

    outcome = judge("high_intent_unassigned")

    assert not outcome.passed
    (unit,) = outcome.breached.itertuples()
    assert (unit.scope, unit.observed, unit.expected) == ("2026-10-10|demo_request", 2.0, 3)
    assert f'"sample_conversion_ids": ["{waiting}", "{late}"]' in unit.details
    assert '"still_unassigned": 1' in unit.details
    # A stricter score leaves only the 99 that was assigned at once.
    assert judge("high_intent_unassigned", contract_with(high_intent_score=95)).passed
    # A longer allowance forgives the 45-minute wait but not the one still waiting.
    longer = judge("high_intent_unassigned", contract_with(high_intent_unassigned_after="1h"))
    assert longer.breached.iloc[0]["observed"] == 1.0


def test_support_questions_wait_for_an_assignee_too(warehouse, judge):
    warehouse.conversion(conversion_type="question", intent_score=99)

    assert list(judge("high_intent_unassigned").breached["scope"]) == ["2026-10-10|question"]
