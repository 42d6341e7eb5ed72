"""Settings travel down (issue 17): the pipeline library never reads the process environment,
the code location reads it in one module, and the dbt step leaves it as it found it."""

import ast
import os
import threading
from pathlib import Path

import pytest

from orchestration.defs.resources import lent_environment

ROOT = Path(__file__).resolve().parents[2]
# The modules that touch os.environ on purpose: the code location's one handle on it, the
# test-only build pipeline (its dbt subprocess) and the documented
# `python -m lead_parity.pipeline.connectors` command (an entry point, like the CLI).
ALLOWED = {
    "orchestration/defs/resources.py",
    "lead_parity/pipeline/build.py",
    "lead_parity/pipeline/connectors/__main__.py",
}


def _environment_reads(path: Path) -> list[int]:
    text = path.read_text()
    if "environ" not in text and "getenv" not in text:
        return []  # parsing only the candidates keeps the scan in milliseconds
    lines = []
    for node in ast.walk(ast.parse(text, str(path))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "environb", "getenv", "putenv")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for a in node.names if a.name in ("environ", "getenv")]
    return lines


def test_only_entry_points_read_the_environment():
    found = {}
    for folder in ("lead_parity/pipeline", "orchestration"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in ALLOWED and (lines := _environment_reads(path)):
                found[rel] = lines
    assert found == {}
    # The scan sees what it looks for: the allowed modules do read it.
    assert all(_environment_reads(ROOT / rel) for rel in ALLOWED)


def test_the_dbt_step_lends_its_paths_and_puts_the_environment_back(monkeypatch):
    monkeypatch.setenv("LEAD_PARITY_WAREHOUSE", "/deployment/warehouse.duckdb")
    monkeypatch.delenv("LEAD_PARITY_LANDED_DIR", raising=False)
    run = {"LEAD_PARITY_WAREHOUSE": "/runs/a/warehouse.duckdb", "LEAD_PARITY_LANDED_DIR": "/a"}
    with lent_environment(run):
        assert {name: os.environ.get(name) for name in run} == run
    assert os.environ["LEAD_PARITY_WAREHOUSE"] == "/deployment/warehouse.duckdb"
    assert "LEAD_PARITY_LANDED_DIR" not in os.environ

    with pytest.raises(RuntimeError), lent_environment(run):
        raise RuntimeError("dbt failed to start")
    assert os.environ["LEAD_PARITY_WAREHOUSE"] == "/deployment/warehouse.duckdb"
    assert "LEAD_PARITY_LANDED_DIR" not in os.environ


def test_two_runs_in_one_process_never_see_each_others_paths():
    seen: dict[str, str | None] = {}
    first_inside, second_tried = threading.Event(), threading.Event()

    def first():
        with lent_environment({"LEAD_PARITY_WAREHOUSE": "/runs/a"}):
            first_inside.set()
            second_tried.wait(5)
            seen["a"] = os.environ.get("LEAD_PARITY_WAREHOUSE")

    def second():
        first_inside.wait(5)
        second_tried.set()
        with lent_environment({"LEAD_PARITY_WAREHOUSE": "/runs/b"}):
            seen["b"] = os.environ.get("LEAD_PARITY_WAREHOUSE")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"a": "/runs/a", "b": "/runs/b"}
