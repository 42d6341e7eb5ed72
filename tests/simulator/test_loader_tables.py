"""`lead-parity simulate --loader-tables`: the stack also as every loader's tables, with a
contract that reads them, ready for `lead-parity run --contract`."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from lead_parity.contract import load_contract
from lead_parity.simulator.layouts import DEMO_SOURCES, LAYOUTS


def test_simulate_writes_every_layout_and_a_contract_that_reads_them(tmp_path):
    out = tmp_path / "stack"
    done = subprocess.run(
        [sys.executable, "-m", "lead_parity.cli.main", "simulate", "--out", str(out),
         "--leads", "20", "--days", "1", "--loader-tables", "duckdb"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tables = out / "loader_tables"
    assert f"--contract {tables / 'contract.yaml'}" in done.stdout
    for layout in LAYOUTS:
        with duckdb.connect(str(tables / f"{layout}.duckdb"), read_only=True) as con:
            names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
            rows = sum(con.execute(f'select count(*) from "{n}"').fetchone()[0] for n in names)
        assert names and rows, layout
    contract = load_contract(tables / "contract.yaml")
    for source, layout in DEMO_SOURCES.items():
        spec = contract.source_input(source)
        # Paths are relative to the contract, resolved where it lies.
        assert (spec.kind, spec.path) == (layout, str(tables / f"{layout}.duckdb"))
    assert contract.source_input("receipts").kind == "files"
