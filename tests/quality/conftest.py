"""Fixtures for the quality suites: hand-built warehouses and contracts with edited SLOs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from expectations.evaluate import evaluate_rule
from lead_parity.contract import DEFAULT_CONTRACT_PATH, load_contract

from .warehouse_builder import AS_OF, Warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "data" / "warehouse.duckdb")


@pytest.fixture
def contract_with(tmp_path: Path):
    """A contract file equal to the defaults except the given `slo` settings."""

    def make(**slo):
        raw = yaml.safe_load(Path(DEFAULT_CONTRACT_PATH).read_text(encoding="utf-8"))
        raw["slo"].update(slo)
        path = tmp_path / f"contract_{len(list(tmp_path.glob('contract_*.yaml')))}.yaml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        return load_contract(path)

    return make


@pytest.fixture
def judge(warehouse: Warehouse):
    """Evaluate one rule on the fixture warehouse (no Data Docs: verdicts only)."""

    def run(rule: str, contract=None, data_docs_dir: Path | None = None):
        return evaluate_rule(
            rule, warehouse.path, contract or load_contract(), AS_OF, data_docs_dir
        )

    return run
