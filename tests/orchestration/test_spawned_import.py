"""The definitions import in a process shaped like Dagster's run worker: a multiprocessing spawn
child of a parent whose `__main__` has neither `__spec__` nor `__file__` (`python -c`). pyspark 4
took such a process for a doctest run and called sys.exit(0) while great_expectations imported
it: every run launched from the UI or a schedule ended before its first step, with exit code 0.
Checked in the default venv and in the Spark venv, where pyspark is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPARK_PYTHON = Path(
    os.environ.get("LEAD_PARITY_SPARK_PYTHON", ROOT / ".venv-spark" / "bin" / "python")
)

# Run with `python -c`: the child must write its marker after the import, which an exit inside
# the import would skip (its exit code would still be 0).
CHILD = """
import multiprocessing, sys

# `exec` is what the child runs: a builtin pickles by name, a function of `-c` would not.
LOAD = '''
import orchestration.definitions as d
import great_expectations  # what pulled pyspark in
jobs = sorted(j.name for j in d.defs.resolve_all_job_defs())
open(MARKER, "w").write(",".join(jobs))
'''

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=exec, args=(LOAD.replace("MARKER", repr(sys.argv[1])),))
    child.start()
    child.join(300)
    sys.exit(child.exitcode)
"""


def _import_in_spawned_child(python: Path, tmp_path: Path) -> str:
    marker = tmp_path / "imported.txt"
    done = subprocess.run(
        [str(python), "-c", CHILD, str(marker)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert marker.exists(), f"the child exited without finishing the import:\n{done.stderr[-3000:]}"
    return marker.read_text()


def test_definitions_import_in_a_spawned_child_of_the_default_venv(tmp_path):
    jobs = _import_in_spawned_child(Path(sys.executable), tmp_path)
    assert "lead_parity_job" in jobs.split(",")


@pytest.mark.spark
def test_definitions_import_in_a_spawned_child_where_pyspark_is_installed(tmp_path):
    assert SPARK_PYTHON.is_file(), f"{SPARK_PYTHON} is missing: run `make setup-spark`"
    check = subprocess.run(
        [str(SPARK_PYTHON), "-c", "import pyspark; print(pyspark.__version__)"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0 and check.stdout.startswith("4."), check.stderr
    jobs = _import_in_spawned_child(SPARK_PYTHON, tmp_path)
    assert "lead_parity_job" in jobs.split(",")
