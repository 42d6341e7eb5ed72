"""SPEC section 9: a run whose as_of is older than the warehouse's latest is refused with one line
unless --full-refresh is given; the refusal happens before any work, in the CLI and in Dagster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from lead_parity.cli.runner import RunParameters
from lead_parity.pipeline.paths import RunPaths
from lead_parity.pipeline.run_state import latest_as_of, record_as_of
from lead_parity.pipeline.timeparse import parse_as_of

WORKED = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "worked"
CLI = str(Path(sys.executable).with_name("lead-parity"))


def _run(warehouse: Path, as_of: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "run", "--input", str(WORKED), "--warehouse", str(warehouse), "--as-of", as_of,
         *extra],
        capture_output=True, text=True, timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("LEAD_PARITY_")},
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_an_older_as_of_is_refused_unless_the_run_is_a_full_refresh(tmp_path):
    # A warehouse last built at 2026-10-12 10:00 (what a completed run records; the soak checks
    # that real daily runs record it and refuse an older one, tests/cli/test_soak.py).
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    record_as_of(RunPaths(warehouse), parse_as_of("2026-10-12T10:00:00Z"))

    older = _run(warehouse, "2026-10-11T10:00:00Z")
    assert older.returncode == 2, older.stdout + older.stderr
    lines = older.stderr.strip().splitlines()
    assert len(lines) == 1 and "older than this warehouse's latest" in lines[0]
    assert "--full-refresh" in lines[0]
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["history"]  # before any work

    # Through Dagster (a launched run has no CLI in front): the run fails at its start.
    from orchestration.definitions import defs

    params = RunParameters(WORKED, warehouse, parse_as_of("2026-10-11T10:00:00Z"))
    result = defs.resolve_job_def("lead_parity_job").execute_in_process(
        run_config=params.run_config(), raise_on_error=False
    )
    assert not result.success
    failure = next(
        e for e in result.all_events if e.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE
    )
    assert "older than this warehouse's latest" in failure.event_specific_data.error.message
    assert not result.get_step_success_events()

    refreshed = _run(warehouse, "2026-10-11T10:00:00Z", "--full-refresh")
    assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    assert "as_of 2026-10-11T10:00:00Z" in refreshed.stdout
    # The refresh moved the warehouse back: 10-11 is its latest now, so a later run goes forward.
    assert latest_as_of(RunPaths(warehouse)) == parse_as_of("2026-10-11T10:00:00Z")
