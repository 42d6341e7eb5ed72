"""A real `dagster dev` (webserver, daemon, code server) in a temporary DAGSTER_HOME, driven
through the webserver's GraphQL API exactly as the UI drives it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
LOCATION = "lead_parity"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}"""

RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status tags { key value } }
  }
}"""

RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId status tags { key value } } }
  }
}"""

START_SCHEDULE = """
mutation Start($selector: ScheduleSelector!) {
  startSchedule(scheduleSelector: $selector) {
    __typename
    ... on ScheduleStateResult { scheduleState { status } }
    ... on PythonError { message }
  }
}"""

STOP_SCHEDULE = """
mutation Stop($selector: ScheduleSelector!) {
  resetSchedule(scheduleSelector: $selector) {
    __typename
    ... on PythonError { message }
  }
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DagsterDev:
    """`dagster dev` on 127.0.0.1:<free port>, started from the repository root like a user."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.log_path = home / "dagster-dev.log"
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 180) -> DagsterDev:
        self.home.mkdir(parents=True, exist_ok=True)
        # The instance settings the project ships (run queue, writer lanes), as a user would
        # copy them into their DAGSTER_HOME.
        shutil.copy(ROOT / "dagster.yaml", self.home / "dagster.yaml")
        log = self.log_path.open("wb")
        dagster = str(Path(sys.executable).with_name("dagster"))
        self.proc = subprocess.Popen(
            [dagster, "dev", "-h", "127.0.0.1", "-p", str(self.port), "-w", "workspace.yaml"],
            cwd=ROOT,
            env={**self.env, "DAGSTER_HOME": str(self.home)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_tail()
            try:
                data = self.query(
                    "{ workspaceOrError { ... on Workspace { locationEntries "
                    "{ name locationOrLoadError { __typename } } } } }"
                )
                entries = data["workspaceOrError"]["locationEntries"]
                kinds = {e["name"]: e["locationOrLoadError"]["__typename"] for e in entries}
                if kinds.get(LOCATION) == "RepositoryLocation":
                    return self
                assert kinds.get(LOCATION) != "PythonError", self.log_tail()
            except requests.RequestException:
                pass
            time.sleep(1)
        raise AssertionError(f"dagster dev did not load {LOCATION}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def query(self, text: str, variables: dict | None = None) -> dict:
        response = requests.post(
            self.url, json={"query": text, "variables": variables or {}}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def launch(self, job: str, run_config: dict | None = None, tags: dict | None = None) -> str:
        params = {
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": "__repository__",
                "jobName": job,
            },
            "runConfigData": run_config or {},
            "executionMetadata": {
                "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]
            },
        }
        result = self.query(LAUNCH, {"params": params})["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def status(self, run_id: str) -> str:
        return self.query(RUN, {"runId": run_id})["runOrError"]["status"]

    def runs(self, tags: dict[str, str] | None = None) -> list[dict]:
        run_filter = {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}
        return self.query(RUNS, {"filter": run_filter})["runsOrError"]["results"]

    def wait(self, run_id: str, timeout_s: float = 600) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.status(run_id)
            if status in FINISHED:
                return status
            assert self.proc is not None and self.proc.poll() is None, self.log_tail()
            time.sleep(1)
        raise AssertionError(f"run {run_id} did not finish in {timeout_s} s:\n{self.log_tail()}")

    def schedule(self, name: str, start: bool) -> None:
        selector = {
            "repositoryLocationName": LOCATION,
            "repositoryName": "__repository__",
            "scheduleName": name,
        }
        result = self.query(START_SCHEDULE if start else STOP_SCHEDULE, {"selector": selector})
        key = "startSchedule" if start else "resetSchedule"
        assert result[key]["__typename"] != "PythonError", result
