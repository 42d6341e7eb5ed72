"""The benchmark script runs every DuckDB stage on a tiny stack and prints a table a person can
read: each stage's seconds and peak memory, the ratios against both baselines, and the SQL
baseline's check that it built the same tables as dbt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"
STAGES = (
    "simulate", "ingest", "read_json_baseline", "dbt_build", "dbt_build_daily", "sql_baseline",
)  # fmt: skip


def _rows(table: str) -> dict[str, list[str]]:
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] == "150":
            rows[cells[1]] = cells
    return rows


def test_every_stage_runs_and_the_ratios_are_printed(tmp_path):
    done = subprocess.run(
        [sys.executable, str(RUN), "--sizes", "150", "--root", str(tmp_path),
         "--stages", ",".join(STAGES), "--markdown", str(tmp_path / "out.md")],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _rows((tmp_path / "out.md").read_text())
    for stage in STAGES:
        assert stage in rows, f"{stage} missing from the table"
        assert float(rows[stage][2]) > 0, rows[stage]
        assert int(rows[stage][3]) > 0, rows[stage]
    assert '"identical_to_dbt": true' in rows["sql_baseline"][4]
    ratios = ("ingest / read_json", "dbt_build / sql_baseline", "dbt_build_daily / sql_baseline")
    for ratio in ratios:
        assert rows[ratio][2].endswith("x"), rows[ratio]
    # The daily build reused the first build's parse; the first build had none to reuse.
    log = (tmp_path / "150" / "dbt_target" / "logs" / "dbt.log").read_text()
    assert log.count("Unable to do partial parsing because saved manifest not found") == 1
