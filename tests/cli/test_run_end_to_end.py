"""`lead-parity run` through the project's Dagster definitions on a small simulated stack."""

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lead_parity.simulator import simulate

CLI = [sys.executable, "-m", "lead_parity.cli.main"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("stack") / "input"
    simulate(folder, leads=300, days=3, seed=11)
    as_of = json.loads((folder / "truth" / "manifest.json").read_text())["as_of"]
    return folder, as_of


def run(input_dir: Path, warehouse: Path, as_of: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "run", "--input", str(input_dir), "--warehouse", str(warehouse), "--as-of", as_of],
        capture_output=True,
        text=True,
        timeout=900,
    )


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table of the published schemas, rows sorted, keyed by schema.table."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'ops') and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": sorted(con.execute(f'select * from "{s}"."{t}"').fetchall(), key=repr)
            for s, t in tables
        }


@pytest.fixture(scope="module")
def first_run(stack, tmp_path_factory):
    input_dir, as_of = stack
    warehouse = tmp_path_factory.mktemp("run") / "warehouse.duckdb"
    done = run(input_dir, warehouse, as_of)
    return done, warehouse


def test_the_run_completes_and_summarises(first_run):
    done, warehouse = first_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert "segment" in done.stdout and "quarantined" in done.stdout
    assert str(warehouse) in done.stdout
    assert "conversions:" in done.stdout


def test_the_run_reads_like_a_verdict_and_keeps_tool_logs_in_a_file(first_run):
    done, warehouse = first_run
    out = done.stdout
    # One line per step while it runs, then the verdict before the details.
    assert "  done   dbt build (models + tests)" in out
    assert out.index("parity SLO") < out.index("where to look:") < out.index("details:")
    assert "what to fix first" in out
    # The work the run left for people, with the same counts the queue's store holds.
    from lead_parity.pipeline.review_queue.store import QueueStore

    waiting = QueueStore.in_history(warehouse.parent / "history").items(states=("open", "claimed"))
    expected = f"review queue: {len(waiting):,} waiting" if waiting else "review queue: nothing"
    assert expected in out
    # dbt's and Dagster's own lines are in the log file, not on the terminal.
    log = warehouse.parent / "logs" / "lead-parity-run.log"
    assert f"log {log}" in out
    assert "Running with dbt" not in out + done.stderr
    assert "Running with dbt" in log.read_text()
    assert "Warning" not in done.stderr


def test_the_run_says_where_its_time_went(first_run):
    out = first_run[0].stdout
    wall = int(re.search(r"finished in (\d+) s", out).group(1))
    timing = re.search(r"time +(\d+) steps (\d+) s \((.+)\); Dagster overhead (\d+) s", out)
    assert timing, out
    steps, steps_s, longest, overhead = timing.groups()
    assert int(steps) > 10 and "lead_parity_dbt_models" in longest
    assert abs(int(steps_s) + int(overhead) - wall) <= 2  # each figure rounded on its own


def test_the_marts_and_ops_tables_of_the_spec_exist(first_run):
    _, warehouse = first_run
    tables = snapshot(warehouse)
    for name in (
        "marts.dim_leads",
        "marts.fct_conversions",
        "marts.fct_hop_parity_daily",
        "marts.fct_hop_parity_daily_totals",
        "marts.fct_assignment_latency_daily",
        "marts.fct_assignment_latency_daily_totals",
        "marts.fct_dead_letters_daily",
        "marts.rpt_dropped_leads",
        "ops.quarantined_records",
        "ops.ingestion_ledger",
    ):
        assert name in tables, name
    assert tables["marts.fct_conversions"], "no conversions built"


def test_the_published_snapshot_documents_itself_for_bi_tools(first_run):
    """Every published table and column carries its description as a comment, counts are
    BIGINT (BI drivers misread HUGEINT), and every list column has a joined text twin."""
    _, warehouse = first_run
    published = warehouse.parent / "published"
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["undocumented"] == []
    with duckdb.connect(str(published / "lead_parity.duckdb"), read_only=True) as con:
        tables = con.execute(
            "select schema_name || '.' || table_name, comment from duckdb_tables() "
            "where database_name = 'lead_parity'"
        ).fetchall()
        columns = con.execute(
            "select schema_name || '.' || table_name, column_name, data_type, comment "
            "from duckdb_columns() where database_name = 'lead_parity'"
        ).fetchall()
    names = {name for name, _ in tables}
    assert {"marts.fct_conversions", "ops.incidents", "ops.review_queue"} <= names
    assert [name for name, comment in tables if not comment] == []
    assert [(t, c) for t, c, _, comment in columns if not comment] == []
    assert [(t, c) for t, c, kind, _ in columns if kind == "HUGEINT"] == []
    lists = {(t, c) for t, c, kind, _ in columns if kind.endswith("[]")}
    assert ("ops.incidents", "sample_conversion_ids") in lists
    assert {(t, f"{c}_text") for t, c in lists} <= {(t, c) for t, c, _, _ in columns}
    by_column = {(t, c): comment for t, c, _, comment in columns}
    # The text of the models YAML, carried by dbt (persist_docs) and copied by the publish.
    assert "dropped / expected" in by_column[("marts.fct_hop_parity_daily", "discrepancy_pct")]


def test_every_record_read_is_accounted_for_in_the_warehouse(first_run, stack):
    _, warehouse = first_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        bad = con.execute(
            "select count(*) from ops.ingestion_ledger "
            "where records_read <> records_loaded + records_quarantined + duplicates"
        ).fetchone()[0]
        quarantined = con.execute("select count(*) from ops.quarantined_records").fetchone()[0]
        ledger_q = con.execute(
            "select sum(records_quarantined) from ops.ingestion_ledger"
        ).fetchone()[0]
    assert bad == 0
    assert quarantined == ledger_q and quarantined > 0  # the simulator writes malformed records


def test_a_second_run_on_the_same_input_gives_the_same_tables(first_run, stack):
    done, warehouse = first_run
    before = snapshot(warehouse)
    again = run(stack[0], warehouse, stack[1])
    assert again.returncode == 0, again.stderr[-3000:]
    assert snapshot(warehouse) == before
    # Nothing changed, so nothing was parsed again (SPEC 9); the first run parsed every file.
    assert re.search(r"input files: [1-9][\d,]* parsed .*, 0 unchanged", first_run[0].stdout)
    assert re.search(r"input files: 0 parsed .*, [1-9][\d,]* unchanged", again.stdout)


def test_a_warehouse_that_is_not_duckdb_fails_the_run_naming_the_step(stack, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_text("this is not a database")
    done = run(stack[0], warehouse, stack[1])
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("lead-parity: run did not complete: lead_parity_dbt_models")
