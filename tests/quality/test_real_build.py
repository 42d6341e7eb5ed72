"""The suites on a real warehouse: the worked examples of SPEC section 8, built by dbt."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from expectations.evaluate import evaluate_all
from lead_parity.contract import load_contract
from lead_parity.pipeline.build import build_warehouse
from lead_parity.pipeline.timeparse import parse_as_of

WORKED = Path("/work/shared/examples/worked")
AS_OF = parse_as_of("2026-10-12T10:00:00Z")

pytestmark = pytest.mark.slow  # one dbt build of the worked examples (~1-2 min)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("worked")
    shutil.copytree(WORKED, root / "input")
    warehouse = root / "data" / "warehouse.duckdb"
    build_warehouse(root / "input", warehouse, as_of=AS_OF)
    results = evaluate_all(warehouse, load_contract(), AS_OF, None)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mart_totals = con.execute(
            "select hop, slo_breached, slo_critical from marts.fct_hop_parity_daily_totals "
            "where expected > 0"
        ).fetchall()
    return results, mart_totals


def test_integrity_holds_and_nothing_is_quarantined(outcomes):
    results, _ = outcomes
    assert results["conversion_id_unique"].passed
    assert results["ledger_balanced"].passed
    assert results["quarantine"].passed


def test_parity_judges_the_day_totals_only_and_agrees_with_the_mart(outcomes):
    results, mart_totals = outcomes
    units = results["parity"].units.set_index("hop")
    # Every slice of the worked examples is far below 30 expected conversions.
    assert set(units["scope"]) == {
        f"2026-10-10|{hop}|all|all"
        for hop in ("marketing", "crm", "crm_assignment", "support", "support_assignment")
    }
    for hop, breached, critical in mart_totals:
        assert (not units.loc[hop, "passed"]) == breached, hop
        assert (units.loc[hop, "severity"] == "critical") == critical, hop
    assert units.loc["crm", ["expected", "dropped"]].tolist() == [5, 2]  # m2 and m3


def test_the_dead_letter_of_case_c_is_named_and_the_replayed_one_of_case_d_is_not(outcomes):
    results, _ = outcomes
    (unit,) = results["dead_letters"].breached.itertuples()
    assert unit.scope.endswith("|crm")
    assert '"sample_conversion_ids": ["m3"]' in unit.details


def test_the_failed_enrichment_of_case_f_breaches_enrichment_success(outcomes):
    results, _ = outcomes
    (unit,) = results["enrichment_success"].breached.itertuples()
    assert (unit.scope, unit.expected, unit.observed) == ("2026-10-10", 1, 0.0)


def test_assignment_latency_is_judged_per_type(outcomes):
    results, _ = outcomes
    observed = results["median_assignment_latency"].units.set_index("scope")["observed"]
    assert observed.to_dict() == {
        "2026-10-10|contact_sales": 18600.0,  # D: assigned 15:10 after a 10:00 conversion
        "2026-10-10|demo_request": 3600.0,  # A: assigned after an hour
        "2026-10-10|question": 600.0,  # K: m6 at 09:00, its ticket assigned at 09:10
    }
    assert not results["median_assignment_latency"].passed
