"""Build a warehouse from an input folder without Dagster: ingest, land the contract, dbt build.

The Dagster assets call the same pieces; this path exists for fast rule tests and benchmarks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from lead_parity.contract import load_contract, write_contract_tables
from lead_parity.pipeline.ingest import ingest_all
from lead_parity.pipeline.paths import DBT_PROJECT_DIR, RunPaths
from lead_parity.pipeline.remediation.store import remediated_rows


class DbtBuildFailed(RuntimeError):
    pass


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def dbt_vars(contract, extra: dict | None = None) -> str:
    return json.dumps({"hops": contract.hop_names, **(extra or {})})


def run_dbt(
    paths: RunPaths, args: list[str], contract, extra_vars: dict | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, **paths.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [
        dbt_executable(),
        *args,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(paths.dbt_target),
        "--log-path", str(paths.dbt_target / "logs"),
        "--vars", dbt_vars(contract, extra_vars),
        "--target", paths.engine,
    ]  # fmt: skip
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)


def build_warehouse(
    input_dir: Path,
    warehouse: Path,
    *,
    as_of: datetime,
    contract_path: Path | None = None,
    select: str | None = None,
    engine: str = "duckdb",
    extra_vars: dict | None = None,
    data_tests: bool = True,
) -> dict:
    """Ingest `input_dir`, land the contract and `dbt build`; returns timings and results.

    `data_tests=False` builds the models only (`dbt run`): for comparing what two inputs build,
    where the data tests would only repeat the cost."""
    paths = RunPaths(Path(warehouse).resolve(), engine)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    contract = load_contract(contract_path)
    timings = {}
    start = time.perf_counter()
    ingested = ingest_all(Path(input_dir), paths.landed, inputs=contract.sources)
    write_contract_tables(contract, paths.contract_tables, as_of, remediated_rows(paths.history))
    timings["ingest_s"] = time.perf_counter() - start
    start = time.perf_counter()
    # dbt unit tests check the SQL, not the data: they run in CI (tests/dbt), not in every build.
    args = ["build", "--exclude-resource-type", "unit_test"] if data_tests else ["run"]
    # A partial build must not pull in tests of models it does not build.
    args += ["--select", select] if select else []
    args += ["--indirect-selection", "cautious"] if select and data_tests else []
    result = run_dbt(paths, args, contract, extra_vars)
    timings["dbt_build_s"] = time.perf_counter() - start
    if result.returncode != 0:
        raise DbtBuildFailed(result.stdout[-6000:] + result.stderr[-2000:])
    return {"ingested": ingested, "timings": timings, "dbt_stdout": result.stdout}
