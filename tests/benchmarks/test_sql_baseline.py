"""The dbt build's benchmark baseline (benchmarks/sql_baseline.py) runs the same logic: on a small
simulated stack its one-script build gives every mart and ops table exactly as dbt built them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from lead_parity.pipeline.build import build_warehouse
from lead_parity.pipeline.paths import RunPaths
from lead_parity.pipeline.timeparse import parse_as_of
from lead_parity.simulator import simulate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import sql_baseline  # noqa: E402


def _group(name: str) -> str:
    return "identity" if name.startswith(("int_identifiers_", "int_records_")) else "other"


def test_the_one_script_baseline_builds_the_same_tables(tmp_path):
    simulate(tmp_path / "input", leads=200, days=5, seed=3)
    as_of = json.loads((tmp_path / "input" / "truth" / "manifest.json").read_text())["as_of"]
    paths = RunPaths(tmp_path / "dbt" / "warehouse.duckdb")
    build_warehouse(tmp_path / "input", paths.warehouse, as_of=parse_as_of(as_of))

    database = tmp_path / "baseline" / "warehouse.duckdb"
    result = sql_baseline.run(paths.dbt_target / "manifest.json", database, _group)

    manifest = json.loads((paths.dbt_target / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert result["models"] == len(models)
    assert set(result["groups"]) == {"identity", "other"}
    script = database.with_name("build.sql").read_text()
    assert 'create or replace table "marts"."fct_conversions"' in script
    differences = sql_baseline.compare(database, paths.warehouse)
    assert "marts.fct_conversions" in differences and "ops.ingestion_ledger" in differences
    assert not any(differences.values()), differences
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_conversions").fetchone()[0] > 100
