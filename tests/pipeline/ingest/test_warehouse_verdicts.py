"""The simulator's stack, converted into each loader layout, gets every verdict of the file-mode
run: fct_conversions (status, hop, cause, late per conversion) and fct_hop_parity_daily."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

from lead_parity.contract import DEFAULT_CONTRACT_PATH
from lead_parity.pipeline.build import build_warehouse
from lead_parity.pipeline.timeparse import parse_as_of
from lead_parity.simulator import simulate
from lead_parity.simulator.layouts import fivetran_forms_projection, write_layout

MARTS = "+fct_conversions +fct_hop_parity_daily"
# Two runs cover the five adapters, each mixed with other kinds: Segment and Airbyte HubSpot
# from Parquet folders beside Fivetran Zendesk in a DuckDB file; Fivetran HubSpot and Airbyte
# Zendesk from DuckDB files beside Segment files.
RUNS = {
    "segment_airbyte_hubspot_fivetran_zendesk": {
        "segment": ("segment_warehouse", "parquet"),
        "hubspot_forms": ("airbyte_hubspot", "parquet"),
        "hubspot_contacts": ("airbyte_hubspot", "parquet"),
        "zendesk_tickets": ("fivetran_zendesk", "duckdb"),
    },
    "fivetran_hubspot_airbyte_zendesk": {
        "hubspot_forms": ("fivetran_hubspot", "duckdb"),
        "hubspot_contacts": ("fivetran_hubspot", "duckdb"),
        "zendesk_tickets": ("airbyte_zendesk", "duckdb"),
    },
}


def verdicts(warehouse) -> tuple[dict, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        conversions = con.execute(
            "select conversion_id, status, dropped_at_hop, root_cause, late "
            "from marts.fct_conversions"
        ).fetchall()
        parity = con.execute("select * from marts.fct_hop_parity_daily order by all").fetchall()
    return {c[0]: c[1:] for c in conversions}, parity


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """File mode, each layout run, and file mode on what Fivetran's HubSpot layout keeps, built
    one after another into one warehouse (dbt parses the project once)."""
    root = tmp_path_factory.mktemp("layouts")
    stack = root / "input"
    simulate(stack, leads=150, days=4, seed=17)
    as_of = parse_as_of(json.loads((stack / "truth" / "manifest.json").read_text())["as_of"])
    warehouse = root / "run" / "warehouse.duckdb"

    def build(input_dir, contract=None):
        build_warehouse(
            input_dir, warehouse, as_of=as_of, contract_path=contract, select=MARTS,
            data_tests=False,
        )  # fmt: skip
        return verdicts(warehouse)

    got = {"files": build(stack)}
    # Every layout is written from what file mode landed, before any layout run replaces it.
    landed = warehouse.parent / "landed"
    orphans = fivetran_forms_projection(stack, root / "projected", landed=landed)
    contracts = {}
    for name, sources in RUNS.items():
        spec = {}
        for source, (layout, fmt) in sources.items():
            tables = root / "tables" / (layout + (".duckdb" if fmt == "duckdb" else ""))
            if not tables.exists():
                write_layout(stack, tables, layout, fmt, landed=landed)
            # Relative to the contract, as a user would write it.
            spec[source] = {"kind": layout, "path": str(tables.relative_to(root))}
        contract = yaml.safe_load(Path(DEFAULT_CONTRACT_PATH).read_text(encoding="utf-8"))
        contract["sources"] = spec
        contracts[name] = root / f"{name}.yaml"
        contracts[name].write_text(yaml.safe_dump(contract))
    for name, contract in contracts.items():
        got[name] = build(stack, contract)
    got["fivetran_projection"] = build(root / "projected")
    return got, orphans


def test_the_stack_is_worth_comparing(runs):
    got, orphans = runs
    conversions, parity = got["files"]
    statuses = {v[0] for v in conversions.values()}
    causes = {v[2] for v in conversions.values() if v[2]}
    assert len(conversions) > 100 and {"delivered", "dropped"} <= statuses
    assert len(causes) >= 3 and parity
    # Submissions whose person has no contact: what Fivetran's layout cannot hold.
    assert orphans > 0


def test_segment_airbyte_hubspot_and_fivetran_zendesk_give_every_file_mode_verdict(runs):
    got, _ = runs
    files, layout = got["files"], got["segment_airbyte_hubspot_fivetran_zendesk"]
    assert layout[0] == files[0]
    assert layout[1] == files[1]


def test_fivetran_hubspot_and_airbyte_zendesk_give_every_verdict_of_what_fivetran_keeps(runs):
    got, _ = runs
    kept, layout = got["fivetran_projection"], got["fivetran_hubspot_airbyte_zendesk"]
    assert layout[0] == kept[0]
    assert layout[1] == kept[1]
