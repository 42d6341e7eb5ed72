"""Run the project's Dagster job in-process, the same graph `dagster dev` shows, and judge it."""

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg

from orchestration.defs.jobs import BUILD_JOB_NAME, PIPELINE_JOB_NAME

LIVE_JOB_NAME = "live_pipeline_job"


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)


def run_environment(
    input_dir: Path,
    warehouse: Path,
    as_of: datetime,
    contract: Path | None,
    engine: str = "duckdb",
) -> dict[str, str]:
    return {
        "LEAD_PARITY_INPUT_DIR": str(input_dir),
        "LEAD_PARITY_WAREHOUSE": str(warehouse),
        "LEAD_PARITY_CONTRACT": str(contract or ""),
        "LEAD_PARITY_AS_OF": as_of.isoformat().replace("+00:00", "Z"),
        "LEAD_PARITY_ENGINE": engine,
    }


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set, CLI runs are recorded where `dagster dev` shows them.
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _first_line(text: str | None) -> str:
    """The line of an error a person needs: for dbt, what dbt itself reported."""
    text = text or ""
    marker = "Errors parsed from dbt logs:"
    if marker in text:
        text = text.split(marker, 1)[1]
    noise = ("Encountered an error:", "Stack Trace:")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and ln.strip() not in noise]
    return " ".join(lines[:2])[:400] if lines else "unknown error"


def execute_pipeline(
    env: dict[str, str], live: bool = False, log_level: str = "INFO"
) -> RunOutcome:
    """Execute the pipeline job with `env` applied; never raises for a failed step.

    On an engine other than DuckDB only ingestion and the dbt build run (lead_parity_build_job).
    """
    os.environ.update(env)
    from orchestration.definitions import defs  # after env: resources resolve it at run time

    if live:
        job_name = LIVE_JOB_NAME
    elif env.get("LEAD_PARITY_ENGINE", "duckdb") != "duckdb":
        job_name = BUILD_JOB_NAME
    else:
        job_name = PIPELINE_JOB_NAME
    job = defs.resolve_job_def(job_name)
    with _instance() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
        outcome = RunOutcome(success=result.success, run_id=result.run_id)
        for event in result.all_events:
            if event.is_step_failure:
                error = event.step_failure_data.error
                message = error.message if error else None
                if error and error.cause:
                    message = error.cause.message
                outcome.failures.append(f"{event.step_key}: {_first_line(message)}")
            elif event.is_step_skipped:
                outcome.skipped.append(event.step_key)
            elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.asset_check_evaluation_data
                if not evaluation.passed:
                    name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                    if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                        outcome.failed_checks.append(name)
                    else:
                        outcome.warned_checks.append(name)
    if outcome.skipped or outcome.failures:
        outcome.success = False
    return outcome
