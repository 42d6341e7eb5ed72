"""Every bad argument is one line on stderr and exit 2, from the real CLI in a subprocess."""

import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "lead_parity.cli.main"]
LIVE_VARIABLES = (
    "HUBSPOT_ACCESS_TOKEN",
    "HUBSPOT_FORM_GUIDS",
    "HUBSPOT_BASE_URL",
    "ZENDESK_SUBDOMAIN",
    "ZENDESK_BASE_URL",
    "ZENDESK_EMAIL",
    "ZENDESK_API_TOKEN",
)


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=120, env=env or os.environ
    )


def assert_one_line_error(done: subprocess.CompletedProcess, *needles: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("lead-parity: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in done.stderr + done.stdout
    assert "usage:" not in done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--leads", "-5"], ["--leads", "-5 must be at least 1"]),
        (["--leads", "0"], ["--leads", "0 must be at least 1"]),
        (["--leads", "many"], ["--leads", "'many' is not a whole number"]),
        (["--days", "0"], ["--days", "0 must be at least 1"]),
        (["--days", "-3"], ["--days", "-3 must be at least 1"]),
        (["--seed", "x1"], ["--seed", "'x1' is not a whole number"]),
        (["--seed", "-1"], ["--seed", "between 0 and"]),
        (["--seed", str(2**40)], ["--seed", "between 0 and"]),
    ],
)
def test_a_bad_simulate_argument_is_one_line_and_writes_nothing(tmp_path, args, needles):
    out = tmp_path / "stack"
    done = run_cli("simulate", "--out", str(out), *args)
    assert_one_line_error(done, "simulate", *needles)
    assert not out.exists()


def test_a_missing_required_argument_is_one_line():
    assert_one_line_error(run_cli("simulate"), "--out")


def test_an_unknown_command_is_one_line():
    assert_one_line_error(run_cli("simmulate"), "invalid choice")


@pytest.mark.parametrize("port", ["0", "70000", "-1", "http"])
def test_a_bad_dashboard_port_is_one_line(tmp_path, port):
    done = run_cli("dashboard", "--published", str(tmp_path), "--port", port)
    assert_one_line_error(done, "--port")


def test_demo_checks_its_numbers_too(tmp_path):
    done = run_cli("demo", "--dir", str(tmp_path / "demo"), "--leads", "-5")
    assert_one_line_error(done, "--leads")
    assert not (tmp_path / "demo").exists()


def test_report_days_must_be_positive(tmp_path):
    done = run_cli("report", "--published", str(tmp_path), "--out", "r.html", "--days", "0")
    assert_one_line_error(done, "--days")


def _without_live_variables(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in LIVE_VARIABLES}
    return {**env, **extra}


def test_live_run_without_any_configured_system_names_the_variables(tmp_path):
    (tmp_path / "input").mkdir()
    done = run_cli(
        "run", "--live", "--input", str(tmp_path / "input"),
        "--warehouse", str(tmp_path / "w.duckdb"),
        env=_without_live_variables(),
    )  # fmt: skip
    line = assert_one_line_error(done, "--live")
    for name in ("HUBSPOT_ACCESS_TOKEN", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"):
        assert name in line
    assert not (tmp_path / "w.duckdb").exists()
    assert not (tmp_path / "published").exists()


def test_live_run_with_a_malformed_variable_names_it(tmp_path):
    (tmp_path / "input").mkdir()
    done = run_cli(
        "run", "--live", "--input", str(tmp_path / "input"),
        "--warehouse", str(tmp_path / "w.duckdb"),
        env=_without_live_variables(
            ZENDESK_SUBDOMAIN="not a subdomain!", ZENDESK_EMAIL="a@b.c", ZENDESK_API_TOKEN="t"
        ),
    )  # fmt: skip
    assert_one_line_error(done, "ZENDESK_SUBDOMAIN")


@pytest.mark.parametrize("command", ["report", "dashboard"])
def test_readers_without_a_warehouse_do_not_fall_back_to_the_demo(tmp_path, command):
    extra = ["--out", str(tmp_path / "r.html")] if command == "report" else []
    done = subprocess.run(
        [*CLI, command, *extra], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert_one_line_error(done, "--warehouse")


@pytest.mark.parametrize("command", ["report", "dashboard"])
def test_readers_name_a_missing_warehouse(tmp_path, command):
    extra = ["--out", str(tmp_path / "r.html")] if command == "report" else []
    missing = tmp_path / "nowhere" / "w.duckdb"
    done = run_cli(command, "--warehouse", str(missing), *extra)
    assert_one_line_error(done, str(missing), "does not exist")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("command", ["report", "dashboard"])
def test_readers_name_a_missing_snapshot(tmp_path, command):
    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(b"")  # a warehouse that was never published
    extra = ["--out", str(tmp_path / "r.html")] if command == "report" else []
    done = run_cli(command, "--warehouse", str(warehouse), *extra)
    assert_one_line_error(done, "no published snapshot")


def test_simulate_into_a_file_is_one_line(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("keep me")
    assert_one_line_error(run_cli("simulate", "--out", str(target), "--leads", "5"), "is a file")
    assert target.read_text() == "keep me"


def test_simulate_into_an_unwritable_place_is_one_line(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    done = run_cli("simulate", "--out", str(blocker / "stack"), "--leads", "5")
    assert_one_line_error(done, "not writable")


def test_a_step_failure_is_reported_in_its_own_words_without_dagster_class_paths():
    from lead_parity.cli.runner import first_line

    raised = "dagster._core.definitions.events.Failure: sources.segment: table tracks is missing\n"
    assert first_line(raised) == "sources.segment: table tracks is missing"
    assert first_line("plain reason") == "plain reason"


@pytest.mark.parametrize("stem", ["main", "temp", "System"])
def test_a_warehouse_file_named_like_a_duckdb_catalog_is_one_line(tmp_path, stem):
    (tmp_path / "input").mkdir()
    warehouse = tmp_path / f"{stem}.duckdb"
    done = run_cli("run", "--input", str(tmp_path / "input"), "--warehouse", str(warehouse))
    assert_one_line_error(done, f"DuckDB reserves the name '{stem}'", "lead_parity.duckdb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input"]
