"""The checks as Dagster runs them: real materializations of hand-built marts, real DuckDB."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
from pandas.testing import assert_frame_equal

from expectations.store import HISTORY_FILE, read_evaluations
from expectations.suites import SUITES
from orchestration.defs.quality.checks import (
    SLO_EVALUATIONS_KEY,
    quality_assets,
    quality_checks,
)
from orchestration.defs.resources import LeadParityConfig

from .warehouse_builder import AS_OF, Warehouse

MART_KEYS = sorted({spec.mart for spec in SUITES.values()})
HOLD_READ_ONLY = (
    "import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
    "print('holding', flush=True); sys.stdin.read()"
)


def hand_built_marts(fill) -> dg.AssetsDefinition:
    """One asset materializing every checked table into the run's warehouse via `fill`."""

    @dg.multi_asset(specs=[dg.AssetSpec(key) for key in MART_KEYS])
    def marts(lead_parity: LeadParityConfig):
        warehouse = Warehouse(lead_parity.paths().warehouse)
        fill(warehouse)
        warehouse.flush()
        for key in MART_KEYS:
            yield dg.MaterializeResult(asset_key=key)

    return marts


def run(tmp_path: Path, fill, instance: dg.DagsterInstance | None = None, selection=None):
    config = LeadParityConfig(
        input_dir=str(tmp_path / "input"),
        warehouse=str(tmp_path / "data" / "warehouse.duckdb"),
        as_of=AS_OF.isoformat() + "Z",
    )
    result = dg.materialize(
        [hand_built_marts(fill), *quality_checks, *quality_assets],
        resources={"lead_parity": config},
        raise_on_error=False,
        instance=instance,
        selection=selection,
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    return result, evaluations, config.paths()


def stack_with_breaches(warehouse: Warehouse) -> None:
    warehouse.parity("crm", "demo_request", "google_ads", expected=100, dropped=6)  # critical
    warehouse.parity("crm", "demo_request", "linkedin", expected=100, dropped=0)
    warehouse.parity("marketing", "demo_request", "google_ads", expected=100, dropped=0)
    warehouse.conversion("m1", intent_score=90, assignment_latency_s=120)
    warehouse.quarantine(1)
    warehouse.ledger("segment", "a.jsonl", read=3, loaded=2, quarantined=1, duplicates=0)


def test_every_suite_has_a_check_on_its_mart_and_integrity_checks_block():
    specs = {
        (key.asset_key.to_user_string(), key.name): check.get_spec_for_check_key(key)
        for check in quality_checks
        for key in check.check_keys
    }
    assert set(specs) == {
        ("fct_hop_parity_daily", "parity_slo"),
        ("fct_conversions", "conversion_id_unique"),
        ("fct_conversions", "median_assignment_latency_slo"),
        ("fct_conversions", "high_intent_unassigned_slo"),
        ("fct_conversions", "enrichment_success_slo"),
        ("fct_dead_letters_daily", "dead_letters_slo"),
        ("ingestion_ledger", "ledger_balanced"),
        ("quarantined_records", "quarantine_slo"),
    }
    # Integrity checks gate everything downstream; SLO checks report the judged rows after
    # the slo_evaluations asset (a WARN gates nothing).
    assert {name for (_, name), spec in specs.items() if spec.blocking} == {
        "conversion_id_unique",
        "ledger_balanced",
    }
    assert all(
        spec.additional_deps[0].asset_key == SLO_EVALUATIONS_KEY
        for (_, name), spec in specs.items()
        if name.endswith("_slo")
    )


def test_slo_breaches_warn_name_their_units_and_the_run_still_succeeds(tmp_path):
    result, evaluations, paths = run(tmp_path, stack_with_breaches)

    assert result.success
    parity = evaluations["parity_slo"]
    assert (parity.passed, parity.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert parity.metadata["breached_scopes"].value == [
        "2026-10-10|crm|demo_request|google_ads",  # critical first
        "2026-10-10|crm|all|all",  # 6 of 200
    ]
    assert parity.metadata["critical_units"].value == 1
    table = parity.metadata["breached"].value
    assert table.index("critical") < table.index(r"`2026-10-10\|crm\|all\|all`")
    assert r"| critical | `2026-10-10\|crm\|demo_request\|google_ads` | 100 | 6 | 6 | 1 |" in table
    assert all(line.count(" | ") == 5 for line in table.splitlines() if line.startswith("| "))
    docs = parity.metadata["data_docs"].value
    assert docs.startswith("file://") and docs.endswith("/index.html")
    assert Path(parity.metadata["data_docs_index"].value) == paths.data_docs / "index.html"
    assert (evaluations["quarantine_slo"].passed, evaluations["dead_letters_slo"].passed) == (
        False,
        True,
    )
    assert evaluations["conversion_id_unique"].passed
    assert evaluations["ledger_balanced"].passed

    stored = read_evaluations(paths.warehouse, AS_OF)
    assert set(stored["rule"]) == {"parity", "median_assignment_latency", "quarantine",
                                   "high_intent_unassigned"}  # fmt: skip
    summary = result.asset_materializations_for_node("slo_evaluations")[0].metadata
    assert summary["breached_units"].value == 3
    assert summary["rules_breached"].value == ["parity", "quarantine"]


def test_a_failed_integrity_check_fails_the_run_and_blocks_what_follows(tmp_path):
    def duplicated_ids(warehouse: Warehouse) -> None:
        warehouse.conversion("m1")
        warehouse.conversion("m1")
        warehouse.ledger("segment", "a.jsonl", read=3, loaded=2, quarantined=0, duplicates=0)

    result, evaluations, _ = run(tmp_path, duplicated_ids)

    assert not result.success
    unique = evaluations["conversion_id_unique"]
    assert (unique.passed, unique.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert "m1" in unique.metadata["offenders"].value
    assert not evaluations["ledger_balanced"].passed
    materialized = {m.asset_key for m in result.get_asset_materialization_events() if m.asset_key}
    assert SLO_EVALUATIONS_KEY not in materialized


def test_re_running_only_the_checks_reports_the_same_and_writes_nothing(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _, first, paths = run(tmp_path, stack_with_breaches, instance)
    stored = read_evaluations(paths.warehouse)
    history = (paths.history / HISTORY_FILE).read_bytes()
    # Another process holding the warehouse read-only: any check opening it for writing fails.
    reader = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_ONLY, str(paths.warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "holding"
        checks_only = dg.AssetSelection.checks(*(k for c in quality_checks for k in c.check_keys))
        result, again, _ = run(tmp_path, stack_with_breaches, instance, checks_only)
    finally:
        reader.communicate("")

    assert result.success
    assert not result.get_asset_materialization_events()  # no asset ran, only the checks
    assert set(again) == set(first)
    for name, evaluation in first.items():
        assert (again[name].passed, again[name].severity) == (
            evaluation.passed,
            evaluation.severity,
        )
        assert again[name].metadata == evaluation.metadata, name
    assert again["parity_slo"].metadata["rows_validated"].value == 5  # from the GX run
    assert again["parity_slo"].metadata["validation_page"].value.startswith("file://")
    assert_frame_equal(read_evaluations(paths.warehouse), stored)
    assert (paths.history / HISTORY_FILE).read_bytes() == history
