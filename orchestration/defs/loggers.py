"""The logger `lead-parity run` configures: every tool's log to a file, one line per step on
the terminal. Runs launched from the UI do not name it in their run config, so Dagster gives them
its default console logger and this one is never built there."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TextIO

import dagster as dg

# The steps a person waits for, named as the run summary names them.
STEP_LABELS = {
    "routing_contract": "routing contract",
    "lead_parity_dbt_models": "dbt build (models + tests)",
    "slo_evaluations": "SLO evaluations",
    "incidents": "incidents",
    "published_snapshot": "published snapshot",
    "reconciliation_report": "reconciliation report",
}
FILE_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def _label(step_key: str) -> str:
    if step_key.endswith("_landed"):
        return f"ingest {step_key.removesuffix('_landed')}"
    if step_key.endswith("_fetched"):
        return f"fetch {step_key.removesuffix('_fetched')}"
    return STEP_LABELS.get(step_key, step_key.replace("_", " "))


class StepLines(logging.Handler):
    """Prints `  done  ingest segment ...... 4.1 s` as each step ends (failed ones too)."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(level=logging.DEBUG)
        self.out = out
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None or not event.step_key:
            return
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            self.started[event.step_key] = time.monotonic()
            return
        if kind not in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            return
        seconds = time.monotonic() - self.started.pop(event.step_key, time.monotonic())
        status = "done" if kind == dg.DagsterEventType.STEP_SUCCESS else "FAILED"
        label = _label(event.step_key)
        self.out.write(f"  {status:<6} {label:.<44} {seconds:6.1f} s\n")
        self.out.flush()


@dg.logger(
    config_schema={
        "log_file": dg.Field(str, description="Where every log record of the run is written."),
        "verbose": dg.Field(bool, default_value=False, description="Also stream them to stderr."),
    },
    description="One line per finished step on stdout; the full log in a file.",
)
def run_progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    log = logging.getLogger(f"lead_parity.run.{id(init_context)}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    path = Path(config["log_file"])
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter(FILE_FORMAT))
    log.addHandler(to_file)
    # The terminal itself: the CLI sends the tools' own stdout (dbt's lines) to the log file.
    log.addHandler(StepLines(sys.__stdout__))
    if config["verbose"]:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.INFO)
        stream.setFormatter(logging.Formatter(FILE_FORMAT))
        log.addHandler(stream)
    return log


loggers = {"console": dg.colored_console_logger, "lead_parity_progress": run_progress_logger}
