"""Sources landing two at a time: the same tables as one at a time, failures kept per source,
and the Dagster step landing only the sources selected."""

import hashlib
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from test_ingest import stack, write_jsonl  # noqa: F401  (the fixture is used by name)

from orchestration.defs.ingest.files import landed
from orchestration.defs.resources import LeadParityConfig
from orchestration.lib.ingest import SOURCES, ingest_sources, parallel
from orchestration.lib.ingest.parallel import memory_share


def _digest(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*.parquet")):
        with duckdb.connect() as con:
            rows = con.execute("select * from read_parquet(?) order by all", [str(p)]).fetchall()
        out[p.relative_to(folder).as_posix()] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def test_two_at_a_time_lands_the_same_tables_as_one_at_a_time(stack, tmp_path):  # noqa: F811
    one = ingest_sources(SOURCES, stack, tmp_path / "one", workers=1)
    two = ingest_sources(SOURCES, stack, tmp_path / "two", workers=2)
    assert list(one) == list(two) == list(SOURCES)
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
    assert {n: r.records_read for n, r in one.items()} == {
        n: r.records_read for n, r in two.items()
    }


def test_a_failing_source_is_returned_and_the_others_still_land(stack, tmp_path, monkeypatch):  # noqa: F811
    real = parallel.ingest_source

    def receipts_disk_full(name, *args, **kwargs):
        if name == "receipts":
            raise OSError(28, "No space left on device")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(parallel, "ingest_source", receipts_disk_full)
    results = ingest_sources(SOURCES, stack, tmp_path / "landed")
    assert isinstance(results["receipts"], OSError)
    assert results["segment"].records_read > 0
    assert (tmp_path / "landed" / "segment" / "messages.parquet").exists()
    assert not (tmp_path / "landed" / "receipts").exists()


@pytest.mark.parametrize(
    ("budget", "workers", "share"),
    [
        ("2GB", 2, "1000MB"),
        ("1.5GB", 2, "750MB"),
        ("3000MB", 1, "3000MB"),
        ("2GiB", 2, "1073MB"),
        ("10MB", 2, "64MB"),
    ],
)
def test_the_memory_budget_is_shared_by_the_sources_landing_at_once(budget, workers, share):
    assert memory_share(budget, workers) == share


def test_a_memory_budget_that_is_not_a_size_is_named_in_the_error():
    with pytest.raises(ValueError, match="LEAD_PARITY_INGEST_MEMORY_LIMIT='lots'"):
        memory_share("lots", 2)


def test_selecting_one_sources_tables_lands_only_that_source(stack, tmp_path):  # noqa: F811
    config = LeadParityConfig(input_dir=str(stack), warehouse=str(tmp_path / "wh.duckdb"))
    selection = [dg.AssetKey(["segment", t]) for t in ("messages", "ledger")]
    result = dg.materialize(
        [landed], selection=selection, resources={"lead_parity": config}, raise_on_error=False
    )
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events() if e.asset_key}
    assert materialized == set(selection)
    landed_dir = config.paths().landed
    assert sorted(p.name for p in landed_dir.iterdir() if not p.name.startswith(".")) == ["segment"]


def test_the_step_fails_naming_the_source_that_failed(stack, tmp_path, monkeypatch):  # noqa: F811
    real = parallel.ingest_source

    def contacts_broken(name, *args, **kwargs):
        if name == "hubspot_contacts":
            raise PermissionError(13, "Permission denied", "landed/hubspot_contacts")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(parallel, "ingest_source", contacts_broken)
    config = LeadParityConfig(input_dir=str(stack), warehouse=str(tmp_path / "wh.duckdb"))
    result = dg.materialize([landed], resources={"lead_parity": config}, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "hubspot_contacts: PermissionError" in failure.step_failure_data.error.message
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["segment", "messages"]) in materialized
    assert dg.AssetKey(["hubspot_contacts", "contacts"]) not in materialized
