"""The telemetry asset checks as Dagster runs them, on the seeded simulation's marts: the 429
storm, the enrichment slowdown and the lead_id tagging break warn on their days only; the
enrichment success SLO holds; warnings never fail the run."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.telemetry import CHECKS
from orchestration.defs.quality.telemetry import CHECK_MARTS, telemetry_checks
from orchestration.defs.resources import LeadParityConfig

from .sim import START, Scenario, simulate, write_warehouse

SCENARIO = Scenario(seed=11, storm_day=38, slowdown_from=39, lead_id_break_day=41)


def _day(index: int) -> str:
    return (START + timedelta(days=index)).isoformat()


@pytest.fixture(scope="module")
def check_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("checks")
    config = LeadParityConfig(
        input_dir=str(root / "input"),
        warehouse=str(root / "data" / "warehouse.duckdb"),
        as_of=SCENARIO.as_of.isoformat().replace("+00:00", "Z"),
    )
    marts = simulate(SCENARIO)

    @dg.multi_asset(specs=[dg.AssetSpec(key) for key in sorted(set(CHECK_MARTS.values()))])
    def telemetry_marts(lead_parity: LeadParityConfig):
        write_warehouse(marts, lead_parity.paths().warehouse, SCENARIO.as_of)
        for key in sorted(set(CHECK_MARTS.values())):
            yield dg.MaterializeResult(asset_key=key)

    result = dg.materialize(
        [telemetry_marts, *telemetry_checks],
        resources={"lead_parity": config},
        raise_on_error=False,
    )
    return result, {e.check_name: e for e in result.get_asset_check_evaluations()}


def _breaches(evaluation) -> list[dict]:
    return evaluation.metadata["breaches"].value


def test_every_check_ran_and_warnings_do_not_fail_the_run(check_run):
    result, evaluations = check_run
    assert result.success
    assert set(evaluations) == set(CHECKS)
    assert all(e.severity == dg.AssetCheckSeverity.WARN for e in evaluations.values())


def test_the_429_storm_warns_on_its_day_and_destination_only(check_run):
    _, evaluations = check_run
    storm = evaluations["rate_limit_spike"]
    assert not storm.passed
    (breach,) = _breaches(storm)
    assert (breach["date"], breach["destination"], breach["observed_by"]) == (
        _day(SCENARIO.storm_day),
        "hubspot-crm",
        "receipts",
    )
    assert breach["rate_limited_pct"] > 20 > 1 > breach["baseline_pct"]
    # Each of the 4 destinations judged against its own baseline on the 5 days of data in
    # the week up to as_of (two days after the last conversion day).
    assert storm.metadata["judged_units"].value == 4 * 5


def test_the_enrichment_slowdown_warns_while_success_holds(check_run):
    _, evaluations = check_run
    latency = evaluations["enrichment_latency"]
    assert not latency.passed
    slow_days = [b["date"] for b in _breaches(latency)]
    assert slow_days == [_day(i) for i in range(SCENARIO.slowdown_from, 7 * SCENARIO.weeks)]
    assert all(b["p95_s"] >= 2 * b["baseline_p95_s"] for b in _breaches(latency))
    assert evaluations["enrichment_success_daily"].passed  # 99.8% > the SPEC's 99%


def test_a_lead_id_tagging_break_warns_on_that_day(check_run):
    _, evaluations = check_run
    coverage = evaluations["lead_id_coverage"]
    assert not coverage.passed
    (breach,) = _breaches(coverage)
    threshold = load_contract(None).telemetry.lead_id_coverage_pct
    assert breach["date"] == _day(SCENARIO.lead_id_break_day)
    assert breach["lead_id_pct"] < threshold == breach["threshold_pct"]
