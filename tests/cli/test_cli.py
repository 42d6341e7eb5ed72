"""`lead-parity run` refuses what it cannot run with one line and a non-zero exit."""

import subprocess
import sys
from pathlib import Path

import pytest

WORKED = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "worked"
CLI = [sys.executable, "-m", "lead_parity.cli.main"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def assert_one_line_error(done: subprocess.CompletedProcess, needle: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("lead-parity: ") and needle in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_a_missing_input_folder_is_one_line(tmp_path):
    done = run_cli(
        "run", "--input", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")
    )
    assert_one_line_error(done, "does not exist")


def test_an_unreadable_contract_is_one_line(tmp_path):
    done = run_cli(
        "run", "--input", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"),
        "--contract", str(tmp_path / "missing.yaml"),
    )  # fmt: skip
    assert_one_line_error(done, "cannot read contract")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("conversions: [", "not valid YAML"),
        ("conversions: {}\nhops: {}\n", "conversions"),
        (
            "conversions:\n  Demo Requested: {type: demo_request, hops: [billing]}\nhops: {}\n",
            "conversions.Demo Requested.hops[0]: unknown hop 'billing'",
        ),
        (
            "conversions:\n  Q: {type: question, hops: [support]}\n"
            "hops:\n  support: {drop_after: soon, sla: 5m, owner: x}\n",
            "hops.support.drop_after",
        ),
    ],
)
def test_an_invalid_contract_names_the_bad_key(tmp_path, text, needle):
    contract = tmp_path / "c.yaml"
    contract.write_text(text)
    done = run_cli(
        "run", "--input", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"),
        "--contract", str(contract),
    )  # fmt: skip
    assert_one_line_error(done, needle)


def test_an_unwritable_warehouse_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run_cli("run", "--input", str(tmp_path), "--warehouse", str(blocker / "w.duckdb"))
    assert_one_line_error(done, "not writable")


def test_a_bad_as_of_is_one_line(tmp_path):
    done = run_cli(
        "run", "--input", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"),
        "--as-of", "last tuesday",
    )  # fmt: skip
    assert_one_line_error(done, "--as-of")


def test_spark_engine_wants_a_warehouse_directory(tmp_path):
    existing_file = tmp_path / "w.duckdb"
    existing_file.write_bytes(b"")
    done = run_cli(
        "run", "--engine", "spark", "--input", str(tmp_path), "--warehouse", str(existing_file)
    )
    assert_one_line_error(done, "needs a warehouse directory")


def test_spark_engine_does_not_fetch_live(tmp_path):
    done = run_cli(
        "run", "--engine", "spark", "--live", "--input", str(tmp_path),
        "--warehouse", str(tmp_path / "spark"),
    )  # fmt: skip
    assert_one_line_error(done, "--live runs on DuckDB only")
