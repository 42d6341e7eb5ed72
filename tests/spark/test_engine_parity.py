"""The same dbt models on DuckDB and on Spark give the same marts (issue: scale-out).

One simulated stack of a few hundred persons is built twice: on DuckDB in one fresh run through
the library path, and on local Spark at the end of a sequence of daily deliveries (SPEC section 9:
files in a random order, a contacts page re-exported whole, a file delivered twice; see
`lead_parity.simulator.deliveries`). The earlier runs of the sequence ingest (the part of a run
that is incremental); the last is `lead-parity run --engine spark` (the Dagster build job,
dbt-spark's session method), whose dbt models rebuild from the landed files as on DuckDB. Lead
keys may be spelled differently by the two engines, so leads are compared by the records they
group, then every mart row by row.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from engine_tables import as_multiset, duckdb_rows, key_mapping, spark_rows

from lead_parity.pipeline.build import build_warehouse
from lead_parity.pipeline.ingest import ingest_all
from lead_parity.pipeline.paths import RunPaths
from lead_parity.pipeline.remediation import Proposal, RemediationStore
from lead_parity.pipeline.timeparse import parse_as_of
from lead_parity.simulator import simulate
from lead_parity.simulator.deliveries import deliver, plan_deliveries

pytestmark = pytest.mark.spark

PERSONS = 300
SEED = 11
MARTS = (
    "fct_conversions", "dim_leads", "fct_hop_parity_daily", "fct_hop_parity_daily_totals",
    "fct_assignment_latency_daily", "fct_assignment_latency_daily_totals",
    "fct_dead_letters_daily", "rpt_dropped_leads",
)  # fmt: skip
OPS = ("ingestion_ledger", "quarantined_records", "source_coverage")
RECORD = ("record_type", "record_id")
REMEDIATED = 3  # dropped conversions `lead-parity remediate` sent before as_of (one more after)
# pyspark lives in its own venv (`make setup-spark`); `make test` names its interpreter.
SPARK_PYTHON = Path(
    os.environ.get(
        "LEAD_PARITY_SPARK_PYTHON", Path(__file__).resolve().parents[2] / ".venv-spark/bin/python"
    )
)


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("engines")
    stack, input_dir = root / "stack", root / "input"
    simulate(stack, leads=PERSONS, days=7, seed=SEED)
    as_of = json.loads((stack / "truth" / "manifest.json").read_text())["as_of"]
    duck, spark = root / "duckdb" / "warehouse.duckdb", root / "spark"
    *earlier, last = plan_deliveries(stack, runs=3, seed=SEED)
    for step in earlier:
        deliver(stack, input_dir, step)
        ingest_all(input_dir, RunPaths(spark, "spark").landed)
    deliver(stack, input_dir, last)
    for data_dir in (duck.parent, spark):
        _remediated(stack, data_dir / "history", parse_as_of(as_of))
    build_warehouse(input_dir, duck, as_of=parse_as_of(as_of))
    assert SPARK_PYTHON.is_file(), f"{SPARK_PYTHON} is missing: run `make setup-spark`"
    done = subprocess.run(
        [str(SPARK_PYTHON), "-m", "lead_parity.cli.main", "run", "--engine", "spark",
         "--input", str(input_dir), "--warehouse", str(spark), "--as-of", as_of],
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    changed = next(d.path for d in earlier[0] if d.short)
    return {"duck": duck, "spark": spark, "stdout": done.stdout, "changed_page": changed}


def _remediated(stack: Path, history: Path, as_of) -> None:
    """Sent actions in the remediation store, so both engines build contract.remediated and
    fct_conversions.remediated_at from rows, not from an empty table."""
    with open(stack / "truth" / "conversions.csv", encoding="utf-8") as f:
        dropped = [r for r in csv.DictReader(f) if r["status"] == "dropped"][: REMEDIATED + 1]
    store = RemediationStore.in_history(history)
    [batch] = store.record_plan(
        [Proposal(r["conversion_id"], None, r["dropped_at_hop"], r["root_cause"], None,
                  "hubspot_upsert", "hubspot", f"p{n}@example.com") for n, r in enumerate(dropped)],
        by="ops", at=as_of, snapshot_as_of=as_of, max_per_batch=100,
    )  # fmt: skip
    store.approve(batch, "ana", at=as_of, max_per_day=100)
    actions = store.actions(batch_id=batch)
    for n, action in enumerate(actions):
        # The last one is sent after as_of: the build must leave its remediated_at null.
        at = as_of + timedelta(hours=1) if n == REMEDIATED else as_of - timedelta(hours=n + 1)
        store.mark_sent({action["action_id"]: f"c{n}"}, at)


@pytest.fixture(scope="module")
def lead_keys(engines) -> dict:
    """DuckDB lead_key -> Spark lead_key; asserts both engines group the same records."""
    duck = duckdb_rows(engines["duck"], "main", "int_records_resolved")
    spark = spark_rows(engines["spark"], "main", "int_records_resolved")
    assert len(duck) == len(spark) > PERSONS
    return key_mapping(duck, spark, RECORD, "lead_key")


def _translated(rows: list[dict], mapping: dict) -> list[dict]:
    return [row | {"lead_key": mapping[row["lead_key"]]} for row in rows]


def test_dim_leads_group_the_same_records(engines, lead_keys):
    duck = duckdb_rows(engines["duck"], "marts", "dim_leads")
    spark = spark_rows(engines["spark"], "marts", "dim_leads")
    assert len(duck) == len(spark) == len(lead_keys)
    assert as_multiset(_translated(duck, lead_keys)) == as_multiset(spark)


def test_fct_conversions_is_identical(engines, lead_keys):
    duck = duckdb_rows(engines["duck"], "marts", "fct_conversions")
    spark = spark_rows(engines["spark"], "marts", "fct_conversions")
    assert len(duck) >= PERSONS
    assert {row["status"] for row in duck} >= {"delivered", "dropped"}
    assert sum(1 for row in duck if row["remediated_at"] is not None) == REMEDIATED
    assert as_multiset(_translated(duck, lead_keys)) == as_multiset(spark)


def test_fct_hop_parity_daily_is_identical(engines):
    duck = duckdb_rows(engines["duck"], "marts", "fct_hop_parity_daily")
    spark = spark_rows(engines["spark"], "marts", "fct_hop_parity_daily")
    assert any(row["dropped"] for row in duck)
    assert as_multiset(duck) == as_multiset(spark)


@pytest.mark.parametrize(
    "table",
    [
        "fct_hop_parity_daily_totals",
        "fct_assignment_latency_daily",
        "fct_assignment_latency_daily_totals",
        "fct_dead_letters_daily",
        # the playbook's telemetry marts (docs/telemetry.md)
        "fct_capture_compliance_daily",
        "fct_delivery_receipts_daily",
        "fct_vendor_rate_limits_daily",
        "fct_enrichment_daily",
        "fct_revenue_at_risk_weekly",
    ],
)
def test_other_marts_are_identical(engines, table):
    duck = duckdb_rows(engines["duck"], "marts", table)
    assert duck
    assert as_multiset(duck) == as_multiset(spark_rows(engines["spark"], "marts", table))


def test_dropped_leads_report_is_identical(engines, lead_keys):
    duck = duckdb_rows(engines["duck"], "marts", "rpt_dropped_leads")
    spark = spark_rows(engines["spark"], "marts", "rpt_dropped_leads")
    assert duck
    assert as_multiset(_translated(duck, lead_keys)) == as_multiset(spark)


@pytest.mark.parametrize("table", OPS)
def test_ops_tables_are_identical(engines, table):
    duck = _current(duckdb_rows(engines["duck"], "ops", table))
    assert duck
    assert as_multiset(duck) == as_multiset(_current(spark_rows(engines["spark"], "ops", table)))


def test_the_sequence_kept_the_superseded_contacts_page_as_history(engines):
    spark = spark_rows(engines["spark"], "ops", "ingestion_ledger")
    assert [r["file"] for r in spark if not r["is_current"]] == [engines["changed_page"]]


def _current(rows: list[dict]) -> list[dict]:
    """The ledger's current versions (SPEC 9: superseded ones are history on top)."""
    return [r for r in rows if r.get("is_current", True)]


def test_every_table_is_parquet_where_the_issue_says(engines):
    for schema, tables in (("marts", MARTS), ("ops", OPS)):
        for table in tables:
            folder = RunPaths(engines["spark"], "spark").mart_parquet(table, schema)
            assert list(folder.glob("*.parquet")), folder


def test_the_spark_run_prints_its_findings(engines):
    out = engines["stdout"]
    assert "conversions:" in out and "marts as Parquet tables" in out
    assert "segment" in out  # the ingestion summary
