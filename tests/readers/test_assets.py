"""The Dagster assets: snapshot and report materialize after the marts, with useful metadata."""

from __future__ import annotations

import shutil

import dagster as dg
from synthetic_marts import build_synthetic_warehouse

from lead_parity.pipeline.publish import read_manifest
from orchestration.defs.publish import publish_assets
from orchestration.defs.publish.assets import INCIDENTS_KEY, MART_KEYS
from orchestration.defs.resources import LeadParityConfig


def test_snapshot_and_report_assets_materialize_with_metadata(tmp_path):
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    build_synthetic_warehouse(warehouse, conversions=400)
    config = LeadParityConfig(input_dir=str(tmp_path / "input"), warehouse=str(warehouse))
    result = dg.materialize(publish_assets, resources={"lead_parity": config})
    assert result.success

    snapshot = result.asset_materializations_for_node("published_snapshot")[0].metadata
    manifest = read_manifest(tmp_path / "data" / "published")
    assert snapshot["version"].value == manifest["version"]
    assert snapshot["storage_compatibility"].value == "v1.0.0+"
    assert "marts.fct_conversions" in snapshot["tables"].value

    # Each mart gets its row count and a preview, with email addresses masked.
    observed = {
        e.asset_key.path[-1]: e.asset_observation_data.asset_observation.metadata
        for e in result.get_asset_observation_events()
    }
    assert set(observed) == {k.path[-1] for k in MART_KEYS}
    for name, metadata in observed.items():
        assert metadata["dagster/row_count"].value == manifest["tables"][f"marts.{name}"]
        assert metadata["preview"].value.startswith("| ")
    assert "***@example.com" in observed["rpt_dropped_leads"]["preview"].value
    assert "l0" not in observed["rpt_dropped_leads"]["preview"].value.split("@")[0][-6:]

    report = result.asset_materializations_for_node("reconciliation_report")[0].metadata
    path = tmp_path / "data" / "reports" / "reconciliation_report.html"
    assert report["path"].value == str(path.resolve())
    assert report["report"].value == path.resolve().as_uri()
    assert report["charts"].value == 6
    assert path.read_text().startswith("<!DOCTYPE html>")


def test_assets_run_after_the_marts_and_incidents():
    config = LeadParityConfig(input_dir="input", warehouse="warehouse.duckdb")
    defs = dg.Definitions(assets=publish_assets, resources={"lead_parity": config})
    graph = defs.resolve_asset_graph()
    snapshot_deps = graph.get(dg.AssetKey("published_snapshot")).parent_keys
    assert set(MART_KEYS) | {INCIDENTS_KEY} <= snapshot_deps
    report_deps = graph.get(dg.AssetKey("reconciliation_report")).parent_keys
    assert report_deps == {dg.AssetKey("published_snapshot")}


def test_a_failed_publish_fails_the_asset_with_the_reason(tmp_path):
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    config = LeadParityConfig(input_dir=str(tmp_path / "input"), warehouse=str(warehouse))
    result = dg.materialize(publish_assets, resources={"lead_parity": config}, raise_on_error=False)
    assert not result.success
    failure = result.failure_data_for_node("published_snapshot")
    assert failure.user_failure_data.description.startswith("publish failed: the warehouse")
    assert "does not exist" in failure.user_failure_data.description
    shutil.rmtree(tmp_path / "data", ignore_errors=True)
