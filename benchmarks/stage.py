"""One benchmark stage in its own process, so its time and peak memory are its own.

Prints one JSON line: {"stage", "seconds", "peak_rss_mb", ...stage figures}.
"""

import argparse
import json
import os
import resource
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb

from lead_parity.contract import load_contract, write_contract_tables
from lead_parity.pipeline.build import run_dbt
from lead_parity.pipeline.ingest import DEFAULT_MEMORY_LIMIT, ingest_all
from lead_parity.pipeline.paths import RunPaths
from lead_parity.pipeline.timeparse import parse_as_of
from lead_parity.simulator import simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sql_baseline  # noqa: E402  (a sibling script, not a package)


def _simulate(args) -> dict:
    simulate(Path(args.input), leads=args.leads, days=args.days, seed=args.seed)
    files = [p for p in Path(args.input).rglob("*") if p.is_file()]
    return {"input_mb": round(sum(p.stat().st_size for p in files) / 2**20, 1)}


def _ingest(args) -> dict:
    paths = RunPaths(Path(args.warehouse).resolve())
    # A script is an entry point: it reads the knob the code location's resource reads.
    limit = os.environ.get("LEAD_PARITY_INGEST_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT
    results = ingest_all(Path(args.input), paths.landed, memory_limit=limit)
    return {
        "records_read": sum(r.records_read for r in results.values()),
        "records_loaded": sum(r.records_loaded for r in results.values()),
    }


def _read_pages(con, files: list[str]):
    """read_json cannot skip a broken page file: drop the file it names and read again."""
    while True:
        try:
            rel = con.read_json(files, format="auto", union_by_name=True)
            rel.count("*").fetchone()
            return rel
        except duckdb.InvalidInputException as exc:
            bad = [f for f in files if f'"{f}"' in str(exc)]
            if not bad:
                raise
            files = [f for f in files if f not in bad]


def _read_json_baseline(args) -> dict:
    """DuckDB's own read_json over the same files into Parquet: no quarantine, no ledger."""
    inp = Path(args.input)
    out = Path(args.warehouse).resolve().parent / "baseline"
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    rows = 0
    jsonl = {"segment": None, "receipts": None}
    pages = {
        "hubspot_forms": ("results",),
        "hubspot_contacts": ("results",),
        "zendesk_tickets": ("tickets", "users", "metric_sets"),
    }
    for source in jsonl:
        files = sorted(str(p) for p in (inp / source).glob("*.jsonl*"))
        if not files:
            continue
        rel = con.read_json(
            files, format="newline_delimited", ignore_errors=True, union_by_name=True
        )
        rel.write_parquet(str(out / f"{source}.parquet"))
        rows += con.read_parquet(str(out / f"{source}.parquet")).count("*").fetchone()[0]
    for source, arrays in pages.items():
        files = sorted(str(p) for p in (inp / source).rglob("*.json"))
        if not files:
            continue
        raw = _read_pages(con, files)
        con.register("raw_pages", raw)
        for array in arrays:
            target = str(out / f"{source}_{array}.parquet")
            con.sql(f"select unnest({array}, recursive := true) from raw_pages").write_parquet(
                target
            )
            rows += con.read_parquet(target).count("*").fetchone()[0]
        con.unregister("raw_pages")
    return {"records_loaded": rows}


def _build(paths: RunPaths, as_of: str) -> dict:
    contract = load_contract(None)
    write_contract_tables(contract, paths.contract_tables, parse_as_of(as_of))
    result = run_dbt(paths, ["build", "--exclude-resource-type", "unit_test"], contract)
    if result.returncode != 0:
        raise SystemExit(f"dbt build failed:\n{result.stdout[-3000:]}")
    run_results = json.loads((paths.dbt_target / "run_results.json").read_text())
    groups: dict[str, float] = {}
    for node in run_results["results"]:
        uid = node["unique_id"]
        group = _model_group(uid.split(".")[-1]) if uid.startswith("model.") else "tests"
        groups[group] = groups.get(group, 0.0) + float(node.get("execution_time") or 0)
    return {"groups": {k: round(v, 2) for k, v in sorted(groups.items())}}


def _dbt_build(args) -> dict:
    """A first build: no dbt target folder, so dbt parses the whole project (about 6 s)."""
    paths = RunPaths(Path(args.warehouse).resolve())
    shutil.rmtree(paths.dbt_target, ignore_errors=True)
    return _build(paths, args.as_of)


def _dbt_build_daily(args) -> dict:
    """A daily build: the previous build's target folder is there, so dbt parses partially, as a
    scheduled run on the same warehouse does. Parses first, untimed, if there is none."""
    paths = RunPaths(Path(args.warehouse).resolve())
    if not (paths.dbt_target / "partial_parse.msgpack").exists():
        result = run_dbt(paths, ["parse"], load_contract(None))
        if result.returncode != 0:
            raise SystemExit(f"dbt parse failed:\n{result.stdout[-3000:]}")
    started = time.perf_counter()
    figures = _build(paths, args.as_of)
    return {"seconds": round(time.perf_counter() - started, 2)} | figures


def _dbt_build_spark(args) -> dict:
    """The same dbt build on local Spark, reading the landed files the ingest stage wrote."""
    duck = RunPaths(Path(args.warehouse).resolve())
    paths = RunPaths(duck.data_dir / "spark", "spark")
    if paths.warehouse.exists():
        shutil.rmtree(paths.warehouse)
    paths.warehouse.mkdir(parents=True)
    paths.landed.symlink_to(duck.landed, target_is_directory=True)
    return _build(paths, args.as_of)


def _sql_baseline(args) -> dict:
    """The dbt build's logic as one DuckDB script (benchmarks/sql_baseline.py); checks that it
    gives the same marts and ops tables as the dbt-built warehouse. Its seconds are the script's
    alone: the check afterwards is not part of the baseline."""
    built = RunPaths(Path(args.warehouse).resolve())
    database = built.data_dir / "sql_baseline" / built.warehouse.name
    result = sql_baseline.run(built.dbt_target / "manifest.json", database, _model_group)
    differences = sql_baseline.compare(database, built.warehouse)
    return {
        "seconds": round(result["seconds"], 2),
        "groups": {k: round(v, 2) for k, v in sorted(result["groups"].items())},
        "models": result["models"],
        "identical_to_dbt": not any(differences.values()),
    }


def _model_group(name: str) -> str:
    for prefix, group in (
        ("stg_", "staging"),
        ("int_identifiers_", "identity"),
        ("int_records_", "identity"),
        ("int_", "funnel"),
        ("fct_", "marts"),
        ("dim_", "marts"),
        ("rpt_", "marts"),
    ):
        if name.startswith(prefix):
            return group
    return "ops"


STAGES = {
    "simulate": _simulate,
    "ingest": _ingest,
    "read_json_baseline": _read_json_baseline,
    "dbt_build": _dbt_build,
    "dbt_build_daily": _dbt_build_daily,
    "sql_baseline": _sql_baseline,
    "dbt_build_spark": _dbt_build_spark,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--input", required=True)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", dest="as_of", default=datetime(2026, 10, 15, 2).isoformat())
    args = parser.parse_args()
    start = time.perf_counter()
    figures = STAGES[args.stage](args)
    # A stage may time a part of its work only (the SQL baseline leaves out its own check).
    seconds = figures.pop("seconds", time.perf_counter() - start)
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(
        json.dumps(
            {"stage": args.stage, "seconds": round(seconds, 2), "peak_rss_mb": peak_kb // 1024}
            | figures
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
