"""The ingestion assets read each source where the contract's `sources:` says: a loader's tables
land like files, and a loader configuration that does not fit fails its asset in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import yaml

from lead_parity.contract import DEFAULT_CONTRACT_PATH
from lead_parity.simulator.layouts import write_layout
from orchestration.defs.ingest import live
from orchestration.defs.ingest.files import landed_assets
from orchestration.defs.resources import LeadParityConfig

WORKED = Path("/work/shared/examples/worked")


def test_a_loader_source_lands_beside_a_broken_one_that_fails_in_one_line(tmp_path):
    shutil.copytree(WORKED, tmp_path / "input")
    write_layout(tmp_path / "input", tmp_path / "segment_tables", "segment_warehouse")
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    contract = yaml.safe_load(Path(DEFAULT_CONTRACT_PATH).read_text(encoding="utf-8"))
    contract["sources"] = {
        "segment": {"kind": "segment_warehouse", "path": "segment_tables"},
        "zendesk_tickets": {"kind": "fivetran_zendesk", "path": "empty.duckdb"},
    }
    (tmp_path / "contract.yaml").write_text(yaml.safe_dump(contract))
    wanted = {"segment_landed", "zendesk_tickets_landed"}
    result = dg.materialize(
        [a for a in landed_assets if a.node_def.name in wanted],
        resources={
            "lead_parity": LeadParityConfig(
                input_dir=str(tmp_path / "input"),
                warehouse=str(tmp_path / "run" / "warehouse.duckdb"),
                contract_path=str(tmp_path / "contract.yaml"),
                as_of="2026-10-12T10:00:00Z",
            )
        },
        raise_on_error=False,
    )
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["zendesk_tickets_landed"]
    message = failures[0].step_failure_data.error.message
    assert message.strip().endswith(
        f"zendesk_tickets (fivetran_zendesk at {tmp_path / 'empty.duckdb'}): no table ticket"
    )
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1
    landed = tmp_path / "run" / "landed" / "segment"
    materialized = result.asset_materializations_for_node("segment_landed")
    assert materialized[0].metadata["input_kind"].value == "segment_warehouse"
    with duckdb.connect() as con:
        ledger = con.execute(
            "select file, records_read from read_parquet(?) order by file",
            [str(landed / "ledger.parquet")],
        ).fetchall()
    assert ledger == [("segment_warehouse:identifies", 4), ("segment_warehouse:tracks", 14)]


def test_a_live_run_does_not_fetch_a_source_the_contract_reads_from_tables(tmp_path, monkeypatch):
    contract = yaml.safe_load(Path(DEFAULT_CONTRACT_PATH).read_text(encoding="utf-8"))
    contract["sources"] = {"hubspot_contacts": {"kind": "fivetran_hubspot", "path": "t.duckdb"}}
    (tmp_path / "contract.yaml").write_text(yaml.safe_dump(contract))
    # Configured, but nothing listens there: a request would fail the asset.
    env = {
        "HUBSPOT_ACCESS_TOKEN": "pat-na1-test",
        "HUBSPOT_BASE_URL": "http://127.0.0.1:9",
        "LEAD_PARITY_HTTP_MAX_ATTEMPTS": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    run = LeadParityConfig(
        input_dir=str(tmp_path / "input"),
        warehouse=str(tmp_path / "w.duckdb"),
        contract_path=str(tmp_path / "contract.yaml"),
    )
    result = dg.materialize(
        live.live_assets,
        selection=["hubspot_contacts_fetched"],
        resources={**live.build_live_resources(env), "lead_parity": run},
    )
    meta = result.asset_materializations_for_node("hubspot_contacts_fetched")[0].metadata
    assert meta["status"].value == "skipped" and meta["pages_fetched"].value == 0
    assert meta["reason"].value == (
        "read from fivetran_hubspot tables (the contract's sources.hubspot_contacts)"
    )
    assert not (tmp_path / "input").exists()
