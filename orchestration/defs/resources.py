"""The run's parameters as one Dagster resource: input folder, warehouse, contract, as_of, engine.

Precedence, highest first: the run config (the launchpad, `lead-parity run`, a schedule's
RunRequest) > an exported `LEAD_PARITY_*` variable (a deployment default, read here when the code
location loads) > the built-in default (the demo's folders). The deployment
defaults are the config schema's defaults, not bound values: Dagster drops bound values as soon
as a run config names any field, and a schedule or a launchpad user sets only `as_of`.

The resource fixes `as_of` and reads the contract once per run, and holds the warehouse's writer
lane for the whole run, so two runs on one warehouse never interleave however they were launched.

`DEPLOYMENT_ENV` is the code location's one handle on the process environment: every module of
`orchestration/` reads its variables (sinks, vendors, schedules) through it, and hands the
pipeline library what it needs as parameters; nothing under `lead_parity/pipeline/` reads
`os.environ`. `lent_environment` is the one place that writes it (the dbt step, see there).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from lead_parity.contract import Contract, load_contract
from lead_parity.pipeline.paths import PROJECT_ROOT, RunPaths, warehouse_name_problem
from lead_parity.pipeline.run_state import AsOfGoesBack, check_as_of
from lead_parity.pipeline.timeparse import parse_as_of
from lead_parity.pipeline.writer_lane import LaneBusy, WriterLane

DEMO_DIR = PROJECT_ROOT / "data" / "demo"
# Run tag the instance's run queue limits to one run per value (dagster.yaml at the root).
WRITER_LANE_TAG = "lead_parity/writer_lane"
AS_OF_TAG = "lead_parity/as_of"  # every pipeline run names the as_of it judged at
# A job that never writes the warehouse (incident delivery, escalation) names its own lane in
# this tag and runs beside the writer instead of waiting for it.
SIDE_LANE_TAG = "lead_parity/lane"
DEFAULT_LANE_WAIT_S = 3600
# A live view, not a copy: a sensor tick or a run step sees the variables as they are when it
# reads them (the sink variables were always read at the moment of delivery).
DEPLOYMENT_ENV: Mapping[str, str] = os.environ

# field -> (environment variable, built-in default)
DEFAULTS: dict[str, tuple[str, str]] = {
    "input_dir": ("LEAD_PARITY_INPUT_DIR", str(DEMO_DIR / "input")),
    "warehouse": ("LEAD_PARITY_WAREHOUSE", str(DEMO_DIR / "warehouse.duckdb")),
    "contract_path": ("LEAD_PARITY_CONTRACT", ""),
    "as_of": ("LEAD_PARITY_AS_OF", ""),
    "engine": ("LEAD_PARITY_ENGINE", "duckdb"),
    # Empty: ingestion's own default (2GB, lead_parity/pipeline/ingest/engine.py).
    "ingest_memory_limit": ("LEAD_PARITY_INGEST_MEMORY_LIMIT", ""),
}


def deployment_default(field: str, env: Mapping[str, str] = DEPLOYMENT_ENV) -> str:
    """The field's exported LEAD_PARITY_* value when set and not blank, else the built-in one."""
    variable, builtin = DEFAULTS[field]
    return env.get(variable, "").strip() or builtin


class LeadParityConfig(dg.ConfigurableResource):
    """Input folder, warehouse, routing contract, as_of and dbt engine of one pipeline run."""

    input_dir: str = deployment_default("input_dir")
    warehouse: str = deployment_default("warehouse")
    # Empty: the default contract (lead_parity/contract/default_contract.yaml).
    contract_path: str = deployment_default("contract_path")
    # ISO-8601; empty: the run's start, fixed once for the whole run.
    as_of: str = deployment_default("as_of")
    # dbt target: duckdb (a file) or spark (a warehouse directory).
    engine: str = deployment_default("engine")
    # The cap of ingestion's private DuckDB per source (DuckDB syntax: 2GB, 512MB; empty: 2GB);
    # past it the parse spills to the source's scratch folder (docs/landed-layout.md).
    ingest_memory_limit: str = deployment_default("ingest_memory_limit")
    lane_wait_s: int = DEFAULT_LANE_WAIT_S  # how long a run waits for another run's writer lane
    # Rebuild everything (dbt --full-refresh); the only way to build at an as_of older than the
    # warehouse's latest.
    full_refresh: bool = False

    _as_of: datetime | None = PrivateAttr(default=None)
    _contract: Contract | None = PrivateAttr(default=None)
    _lane: WriterLane | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Sensors and schedules build resources too: only a run takes the lane.
        run = context.run
        if run is None:
            return
        self._as_of = self.as_of_datetime()
        if AS_OF_TAG not in run.tags and SIDE_LANE_TAG not in run.tags:
            # A launchpad run names its as_of in config only; the tag lets the Runs page say
            # which instant every run judged (docs/dagster.md, "The unit of work").
            as_of_text = self._as_of.isoformat().replace("+00:00", "Z")
            context.instance.add_run_tags(run.run_id, {AS_OF_TAG: as_of_text})
        if SIDE_LANE_TAG in run.tags:
            return
        paths = self.paths()
        problem = warehouse_name_problem(paths.warehouse) if paths.engine == "duckdb" else None
        if problem:
            raise dg.Failure(description=problem)
        lane = WriterLane(paths.data_dir)
        try:
            lane.acquire(run.run_id, wait_s=self.lane_wait_s, log=context.log.info)
        except LaneBusy as exc:
            raise dg.Failure(description=str(exc)) from None
        self._lane = lane
        try:
            check_as_of(self.paths(), self._as_of, self.full_refresh)
        except AsOfGoesBack as exc:
            self.teardown_after_execution(context)
            raise dg.Failure(description=str(exc)) from None

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lane is not None:
            self._lane.release()
            self._lane = None

    def paths(self) -> RunPaths:
        return RunPaths(Path(self.warehouse).expanduser().resolve(), self.engine or "duckdb")

    def duckdb_paths(self, stage: str) -> RunPaths:
        """Paths for a stage that reads the DuckDB warehouse file (SLO checks, incidents)."""
        paths = self.paths()
        if paths.engine != "duckdb":
            raise dg.Failure(
                f"{stage} reads the DuckDB warehouse and does not run on engine "
                f"{paths.engine!r}; `lead-parity run --engine {paths.engine}` builds the marts "
                "only (docs/running-at-scale.md)"
            )
        return paths

    def contract(self) -> Contract:
        """The routing contract, read once per run."""
        if self._contract is None:
            self._contract = load_contract(self.contract_path or None)
        return self._contract

    def as_of_datetime(self) -> datetime:
        """The run's as_of: the configured instant, else the run's start (fixed at setup)."""
        if self._as_of is not None:
            return self._as_of
        if self.as_of:
            return parse_as_of(self.as_of)
        return datetime.now(UTC).replace(microsecond=0)


_SPAWN_LOCK = threading.Lock()


@contextmanager
def lent_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """`variables` in the process environment only while dagster-dbt starts dbt, then put back.

    dagster-dbt 0.29's `DbtCliResource.cli()` takes no env: inside the call it copies
    `os.environ` into the dbt subprocess's env (and into the in-process adapter it opens for
    metadata), and reads it nowhere after. Lending a run's paths for exactly that call, under a
    lock, gives every dbt process its own run's warehouse while the process environment (shared
    by every run a worker executes) stays as it was.
    """
    with _SPAWN_LOCK:
        before = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def writer_lane_tags(env: Mapping[str, str] = DEPLOYMENT_ENV) -> dict[str, str]:
    """The run-queue tag of this code location's default warehouse (one lane per warehouse)."""
    return {WRITER_LANE_TAG: lane_key(deployment_default("warehouse", env))}


def lane_key(warehouse: str | Path) -> str:
    return str(Path(warehouse).expanduser().resolve())


lead_parity_config = LeadParityConfig()
