"""Benchmarks: simulate, ingest and dbt-build stacks of several sizes; print time and peak memory.

Each stage runs in its own process. Ingestion is compared, in the same run, with DuckDB's own
`read_json` over the same files (no quarantine, ledger or de-duplication: the floor).

    .venv/bin/python benchmarks/run.py --sizes 10000,100000,1000000 [--markdown out.md]

Stages: simulate, ingest, read_json_baseline (ingest's baseline), dbt_build (a first build: no
dbt target folder, full parse), dbt_build_daily (the same build again with the target folder left
by the previous one: partial parse, as a scheduled run), sql_baseline (the dbt build's baseline:
the same compiled SQL as one DuckDB script, benchmarks/sql_baseline.py), dbt_build_spark (the
same models on local Spark, up to --spark-max persons).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = (
    "simulate", "ingest", "read_json_baseline", "dbt_build", "dbt_build_daily", "sql_baseline",
    "dbt_build_spark",
)  # fmt: skip
RATIOS = (
    ("ingest", "read_json_baseline", "ingest / read_json"),
    ("dbt_build", "sql_baseline", "dbt_build / sql_baseline"),
    ("dbt_build_daily", "sql_baseline", "dbt_build_daily / sql_baseline"),
    ("dbt_build_spark", "dbt_build", "spark / duckdb dbt_build"),
)


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cores = os.cpu_count()
    return f"{platform.system()} {platform.machine()}, {cores} cores ({cpu}), {mem_gb:.0f} GB"


# The Spark stage runs in the Spark venv (`make setup-spark`); every other stage in this one.
SPARK_PYTHON = HERE.parent / ".venv-spark" / "bin" / "python"


def run_stage(stage: str, size: int, root: Path, as_of: str, days: int = 14) -> dict:
    folder = root / f"{size}"
    python = str(SPARK_PYTHON) if stage == "dbt_build_spark" else sys.executable
    cmd = [
        python, str(HERE / "stage.py"), stage,
        "--input", str(folder / "input"), "--warehouse", str(folder / "warehouse.duckdb"),
        "--leads", str(size), "--as-of", as_of, "--days", str(days),
    ]  # fmt: skip
    print(f"  {size:>9,} {stage} ...", flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"stage": stage, "error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--root", default="/tmp/lead-parity-bench")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument(
        "--days", type=int, default=14, help="days the simulate stage covers (issue 18 uses 30)"
    )
    parser.add_argument(
        "--spark-max",
        type=int,
        default=100_000,
        help="run dbt_build_spark only for sizes up to this many persons (local Spark is slow)",
    )
    args = parser.parse_args()
    root = Path(args.root)
    sizes = [int(s) for s in args.sizes.split(",")]
    stages = args.stages.split(",")
    results: dict[int, dict[str, dict]] = {}
    started = time.time()
    for size in sizes:
        results[size] = {}
        for stage in stages:
            if stage == "dbt_build_spark" and size > args.spark_max:
                continue
            as_of = "2026-10-15T02:00:00Z"
            manifest = root / f"{size}" / "input" / "truth" / "manifest.json"
            if manifest.exists():
                as_of = json.loads(manifest.read_text())["as_of"]
            results[size][stage] = run_stage(stage, size, root, as_of, args.days)
    lines = [
        f"Machine: {machine()}; Python {platform.python_version()}; "
        f"total {time.time() - started:.0f} s",
        "",
        "| persons | stage | seconds | peak RSS MB | figures |",
        "|---:|---|---:|---:|---|",
    ]
    for size, by_stage in results.items():
        for stage, r in by_stage.items():
            extra = {k: v for k, v in r.items() if k not in ("stage", "seconds", "peak_rss_mb")}
            lines.append(
                f"| {size:,} | {stage} | {r.get('seconds', '-')} | {r.get('peak_rss_mb', '-')} "
                f"| {json.dumps(extra)} |"
            )
        for numerator, denominator, label in RATIOS:
            top = by_stage.get(numerator, {}).get("seconds")
            bottom = by_stage.get(denominator, {}).get("seconds")
            if top and bottom:
                lines.append(f"| {size:,} | {label} | {top / bottom:.2f}x | | |")
    print("\n".join(lines))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
