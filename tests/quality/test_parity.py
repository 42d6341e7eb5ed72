"""Parity SLO on hand-built fct_hop_parity_daily tables with known drop rates."""

from __future__ import annotations

from .warehouse_builder import DAY


def breached_scopes(outcome) -> set[str]:
    return set(outcome.breached["scope"])


def test_a_stack_at_half_a_percent_passes(warehouse, judge):
    warehouse.parity("crm", "demo_request", "google_ads", expected=200, dropped=1)
    warehouse.parity("marketing", "demo_request", "google_ads", expected=200, dropped=0)

    outcome = judge("parity")

    assert outcome.passed
    assert breached_scopes(outcome) == set()
    crm_total = outcome.units.set_index("scope").loc["2026-10-10|crm|all|all"]
    assert crm_total["observed"] == 0.5
    assert crm_total["severity"] == "ok"
    assert set(outcome.units["scope"]) == {
        "2026-10-10|crm|all|all",
        "2026-10-10|crm|demo_request|google_ads",
        "2026-10-10|marketing|all|all",
        "2026-10-10|marketing|demo_request|google_ads",
    }


def test_a_stack_at_one_and_a_half_percent_warns_and_names_exactly_the_breached_units(
    warehouse, judge
):
    warehouse.parity("crm", "demo_request", "google_ads", expected=200, dropped=3)
    warehouse.parity("crm", "contact_sales", "google_ads", expected=200, dropped=3)
    warehouse.parity("marketing", "demo_request", "google_ads", expected=203, dropped=0)
    warehouse.parity("support", "question", "linkedin", expected=100, dropped=0)

    outcome = judge("parity")

    assert not outcome.passed
    assert list(outcome.breached["scope"]) == [
        # worst first: equal 1.5% everywhere, so the bigger unit leads
        "2026-10-10|crm|all|all",
        "2026-10-10|crm|contact_sales|google_ads",
        "2026-10-10|crm|demo_request|google_ads",
    ]
    assert set(outcome.breached["severity"]) == {"warning"}
    total = outcome.breached.iloc[0]
    assert (total["expected"], total["dropped"], total["observed"]) == (400, 6, 1.5)
    assert outcome.units["passed"].sum() == 4  # marketing and support totals and slices


def test_a_stack_at_six_percent_is_critical(warehouse, judge):
    warehouse.parity("crm", "demo_request", "google_ads", expected=100, dropped=6)
    warehouse.parity("crm", "demo_request", "facebook", expected=100, dropped=0)

    outcome = judge("parity")

    by_scope = outcome.units.set_index("scope")["severity"].to_dict()
    assert by_scope == {
        "2026-10-10|crm|all|all": "warning",  # 6 of 200 = 3%
        "2026-10-10|crm|demo_request|google_ads": "critical",  # 6%
        "2026-10-10|crm|demo_request|facebook": "ok",
    }
    assert outcome.breached.iloc[0]["scope"] == "2026-10-10|crm|demo_request|google_ads"


def test_a_small_slice_with_one_drop_is_judged_only_inside_its_total(warehouse, judge):
    warehouse.parity("crm", "demo_request", "linkedin", expected=10, dropped=1)  # 10%
    warehouse.parity("crm", "demo_request", "google_ads", expected=190, dropped=0)

    outcome = judge("parity")

    assert outcome.passed
    assert "2026-10-10|crm|demo_request|linkedin" not in set(outcome.units["scope"])
    total = outcome.units.set_index("scope").loc["2026-10-10|crm|all|all"]
    assert (total["expected"], total["dropped"], total["observed"]) == (200, 1, 0.5)


def test_thresholds_come_from_the_contract(warehouse, judge, contract_with):
    warehouse.parity("crm", "demo_request", "google_ads", expected=200, dropped=3)  # 1.5%
    warehouse.parity("crm", "demo_request", "linkedin", expected=10, dropped=1)  # 10%

    assert not judge("parity").passed
    assert judge("parity", contract_with(parity_discrepancy_pct=2.0)).passed

    critical = judge("parity", contract_with(critical_discrepancy_pct=1.2))
    assert (
        critical.units.set_index("scope").loc["2026-10-10|crm|demo_request|google_ads", "severity"]
        == "critical"
    )

    small_judged = judge("parity", contract_with(parity_discrepancy_pct=5.0, min_slice_volume=5))
    assert list(small_judged.breached["scope"]) == ["2026-10-10|crm|demo_request|linkedin"]


def test_days_hops_and_mart_total_rows_are_kept_apart(warehouse, judge):
    # The mart's own `all` rows are recognised and never counted as a slice.
    warehouse.parity("crm", "all", "all", expected=999, dropped=999)
    warehouse.parity("crm", "demo_request", "google_ads", expected=100, dropped=2)
    warehouse.parity("crm", "demo_request", "google_ads", expected=100, dropped=0,
                     day=DAY.replace(day=11))  # fmt: skip

    outcome = judge("parity")

    assert set(outcome.breached["scope"]) == {
        "2026-10-10|crm|all|all",
        "2026-10-10|crm|demo_request|google_ads",
    }
    assert outcome.units.set_index("scope").loc["2026-10-10|crm|all|all", "expected"] == 100
