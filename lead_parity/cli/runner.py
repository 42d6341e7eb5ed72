"""Run the project's Dagster job in-process, the same graph `dagster dev` shows, and judge it.

The CLI passes its parameters as run config on the `lead_parity` resource, exactly what the
launchpad shows, so a CLI run and a launched run of the same config do the same work.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg


@dataclass(frozen=True)
class RunParameters:
    """What one pipeline run reads and writes (the `lead_parity` resource's config)."""

    input_dir: Path
    warehouse: Path
    as_of: datetime
    contract: Path | None = None
    engine: str = "duckdb"
    lane_wait_s: int = 3600
    full_refresh: bool = False

    @property
    def as_of_text(self) -> str:
        return self.as_of.isoformat().replace("+00:00", "Z")

    def resource_config(self) -> dict:
        return {
            "input_dir": str(self.input_dir),
            "warehouse": str(self.warehouse),
            "contract_path": str(self.contract or ""),
            "as_of": self.as_of_text,
            "engine": self.engine,
            "lane_wait_s": self.lane_wait_s,
            "full_refresh": self.full_refresh,
        }

    @property
    def log_file(self) -> Path:
        """Where a CLI run writes the Dagster, dbt and GX log (beside the warehouse)."""
        folder = self.warehouse if self.engine == "spark" else self.warehouse.parent
        return folder / "logs" / "lead-parity-run.log"

    def run_config(self, verbose: bool = False) -> dict:
        # The progress logger replaces Dagster's console logger: one line per step on the
        # terminal, every record in the log file (streamed to stderr too with --verbose).
        progress = {"log_file": str(self.log_file), "verbose": verbose}
        return {
            "resources": {"lead_parity": {"config": self.resource_config()}},
            "loggers": {"lead_parity_progress": {"config": progress}},
        }


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    # Seconds each step ran, from the run's event log (steps run one after another in process).
    step_seconds: dict[str, float] = field(default_factory=dict)
    # Input files this run parsed (new or changed) and took unchanged from the parsed cache.
    files: Counter = field(default_factory=Counter)


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set, CLI runs are recorded where `dagster dev` shows them.
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


_FAILURE_PREFIX = re.compile(r"^dagster\._core\.[\w.]+\.Failure: ")


def first_line(text: str | None) -> str:
    """The line of an error a person needs: for dbt, what dbt itself reported."""
    # A step that raised dagster.Failure carries the class path in front of its own words.
    text = _FAILURE_PREFIX.sub("", (text or "").strip())
    marker = "Errors parsed from dbt logs:"
    if marker in text:
        text = text.split(marker, 1)[1]
    noise = ("Encountered an error:", "Stack Trace:")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and ln.strip() not in noise]
    return " ".join(lines[:2])[:400] if lines else "unknown error"


def job_name_for(params: RunParameters, live: bool) -> str:
    """On an engine other than DuckDB only ingestion and the dbt build run."""
    from orchestration.defs.jobs import BUILD_JOB_NAME, LIVE_JOB_NAME, PIPELINE_JOB_NAME

    if live:
        return LIVE_JOB_NAME
    return BUILD_JOB_NAME if params.engine != "duckdb" else PIPELINE_JOB_NAME


def execute_pipeline(
    params: RunParameters, live: bool = False, verbose: bool = False
) -> RunOutcome:
    """Execute the pipeline job with `params` as run config; never raises for a failed step."""
    from orchestration.definitions import defs
    from orchestration.defs.resources import AS_OF_TAG, WRITER_LANE_TAG, lane_key

    job = defs.resolve_job_def(job_name_for(params, live))
    with _instance() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=params.run_config(verbose=verbose),
            # The same as_of tag a schedule's run carries: the Runs page filters by day.
            tags={WRITER_LANE_TAG: lane_key(params.warehouse), AS_OF_TAG: params.as_of_text},
        )
        outcome = RunOutcome(success=result.success, run_id=result.run_id)
        outcome.step_seconds = {
            stat.step_key: stat.end_time - stat.start_time
            for stat in instance.get_run_step_stats(result.run_id)
            if stat.start_time is not None and stat.end_time is not None
        }
        run_failure = None
        counted_steps: set[str] = set()
        for event in result.all_events:
            if event.is_step_failure:
                error = event.step_failure_data.error
                message = error.message if error else None
                if error and error.cause:
                    message = error.cause.message
                outcome.failures.append(f"{event.step_key}: {first_line(message)}")
            elif event.is_step_skipped:
                outcome.skipped.append(event.step_key)
            elif event.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE:
                # The run's resource refused to start (writer lane, as_of): its own words.
                error = getattr(event.event_specific_data, "error", None)
                run_failure = error.message.split(": ", 1)[-1] if error else event.message
            elif event.event_type == dg.DagsterEventType.RUN_FAILURE and run_failure is None:
                run_failure = event.message
            elif event.is_step_materialization and event.step_key not in counted_steps:
                metadata = event.event_specific_data.materialization.metadata
                if "files_parsed" in metadata:
                    counted_steps.add(event.step_key)  # one step lands several tables
                    for kind in ("parsed", "reused", "superseded"):
                        outcome.files[kind] += metadata[f"files_{kind}"].value
            elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.asset_check_evaluation_data
                if not evaluation.passed:
                    name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                    if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                        outcome.failed_checks.append(name)
                    else:
                        outcome.warned_checks.append(name)
    if not result.success and not outcome.failures and run_failure:
        outcome.failures.append(f"run: {first_line(run_failure)}")
    if outcome.skipped or outcome.failures:
        outcome.success = False
    return outcome
