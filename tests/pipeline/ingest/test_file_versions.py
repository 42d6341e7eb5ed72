"""SPEC section 9, "Runs over time", at the ingestion: a file already ingested and unchanged is not
parsed again, a changed file supersedes its earlier version (kept as ledger history), a file gone
from the input keeps its records, and any sequence of runs lands what one fresh run lands."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import duckdb
import pytest

from lead_parity.pipeline.ingest import SOURCES, ingest_all, ingest_source
from lead_parity.simulator import simulate


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("versions") / "input"
    simulate(folder, leads=150, days=5, seed=5)
    shutil.rmtree(folder / "truth")
    return folder


def landed_tables(landed: Path) -> dict[str, list[tuple]]:
    """Every landed table's rows, sorted (landed rows have no order); the ledger's current
    versions only, since it also keeps superseded ones as history."""
    tables = {}
    with duckdb.connect() as con:
        for path in sorted(landed.glob("*/*.parquet")):
            query = "select * from read_parquet(?)"
            if path.name == "ledger.parquet":
                query += " where is_current"
            rows = con.execute(query, [str(path)]).fetchall()
            tables[path.relative_to(landed).as_posix()] = sorted(rows, key=repr)
    return tables


def ledger(landed: Path, source: str) -> list[dict]:
    with duckdb.connect() as con:
        cursor = con.execute(
            "select * from read_parquet(?) order by is_current desc, file, content_hash",
            [str(landed / source / "ledger.parquet")],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def copy_files(src: Path, dst: Path, rels: list[str]) -> None:
    for rel in rels:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dst / rel)


def all_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_an_unchanged_file_is_not_parsed_again(simulated, tmp_path):
    landed = tmp_path / "landed"
    first = ingest_all(simulated, landed)
    tables = landed_tables(landed)
    second = ingest_all(simulated, landed)
    assert landed_tables(landed) == tables
    for name in SOURCES:
        assert second[name].files_parsed == 0, name
        assert second[name].files_reused == first[name].files_parsed, name
        assert second[name].records_read == first[name].records_read, name
    assert sum(r.files_parsed for r in first.values()) == len(all_files(simulated))


def test_a_changed_file_supersedes_its_earlier_version(simulated, tmp_path):
    inp = tmp_path / "input"
    shutil.copytree(simulated, inp)
    page = inp / "hubspot_contacts" / "page-000001.json"
    body = json.loads(page.read_text())
    landed = tmp_path / "landed"
    # The first delivery of the page lacks its last contact; the re-export has it.
    full = body["results"]
    page.write_text(json.dumps({**body, "results": full[:-1]}))
    ingest_source("hubspot_contacts", inp, landed)
    old = ledger(landed, "hubspot_contacts")
    page.write_text(json.dumps(body))
    result = ingest_source("hubspot_contacts", inp, landed)
    assert (result.files_parsed, result.files_superseded) == (1, 1)

    rows = ledger(landed, "hubspot_contacts")
    current = [r for r in rows if r["is_current"]]
    history = [r for r in rows if not r["is_current"]]
    changed = "hubspot_contacts/page-000001.json"
    was = next(r for r in old if r["file"] == changed)
    assert [(r["file"], r["content_hash"]) for r in history] == [(changed, was["content_hash"])]
    assert history[0]["records_read"] == len(full) - 1
    now = next(r for r in current if r["file"] == changed)
    assert now["records_read"] == len(full) and now["content_hash"] != was["content_hash"]

    fresh = tmp_path / "fresh"
    ingest_source("hubspot_contacts", inp, fresh)
    assert landed_tables(landed) == landed_tables(fresh)


def test_a_file_gone_from_the_input_keeps_its_records_until_a_full_refresh(simulated, tmp_path):
    inp = tmp_path / "input"
    shutil.copytree(simulated, inp)
    landed = tmp_path / "landed"
    first = ingest_source("receipts", inp, landed)
    gone = sorted((inp / "receipts").iterdir())[0]
    gone_rel = gone.relative_to(inp).as_posix()
    gone.unlink()

    kept = ingest_source("receipts", inp, landed)
    assert kept.files_missing == (gone_rel,)
    assert kept.records_loaded == first.records_loaded
    row = next(r for r in ledger(landed, "receipts") if r["file"] == gone_rel)
    assert (row["is_current"], row["in_input"]) == (True, False)

    refreshed = ingest_source("receipts", inp, landed, full_refresh=True)
    assert refreshed.records_loaded < first.records_loaded
    assert gone_rel not in {r["file"] for r in ledger(landed, "receipts") if r["is_current"]}
    fresh = tmp_path / "fresh"
    ingest_source("receipts", inp, fresh)
    assert landed_tables(landed) == landed_tables(fresh)


def test_a_crash_after_parsing_redoes_the_landing_without_duplicates(simulated, tmp_path):
    landed = tmp_path / "landed"
    ingest_source("segment", simulated, landed)
    tables = landed_tables(landed)
    # A crash after the parsed versions were committed, before the landed folder was swapped in:
    # the next run finds the cache complete and lands from it.
    shutil.rmtree(landed / "segment")
    # And a version whose rows were written but whose marker was not (a crash mid-commit).
    cache = landed / ".parsed" / "segment"
    marker = sorted((cache / "versions").glob("*.json"))[0]
    marker.unlink()
    again = ingest_source("segment", simulated, landed)
    assert again.files_parsed == 1
    assert landed_tables(landed) == tables


@pytest.mark.parametrize("seed", [1])
def test_any_sequence_of_daily_deliveries_lands_what_one_fresh_run_lands(simulated, tmp_path, seed):
    """Files arrive over several runs in a random order; one file is delivered twice (once
    under a second name), a contacts page arrives short and is re-exported whole."""
    rng = random.Random(seed)
    inp = tmp_path / "input"
    inp.mkdir()
    landed = tmp_path / "landed"
    files = all_files(simulated)
    rng.shuffle(files)
    page = "hubspot_contacts/page-000001.json"
    body = json.loads((simulated / page).read_text())
    steps = [files[i::3] for i in range(3)]
    for n, step in enumerate(steps):
        copy_files(simulated, inp, step)
        if n == 0:
            (inp / page).parent.mkdir(parents=True, exist_ok=True)
            (inp / page).write_text(json.dumps({**body, "results": body["results"][:1]}))
        if n == 1:
            resent = next(f for f in files if f.startswith("segment/"))
            copy_files(simulated, inp, [resent])
            (inp / resent).with_name("resent-" + Path(resent).name).write_bytes(
                (simulated / resent).read_bytes()
            )
        ingest_all(inp, landed)
    copy_files(simulated, inp, [page])
    ingest_all(inp, landed)

    fresh = tmp_path / "fresh"
    ingest_all(inp, fresh)
    assert landed_tables(landed) == landed_tables(fresh)
    history = [r for r in ledger(landed, "hubspot_contacts") if not r["is_current"]]
    assert [r["file"] for r in history] == [page]


def test_the_cache_keeps_one_chunk_per_run_and_drops_chunks_nothing_current_is_in(
    simulated, tmp_path
):
    """Many files make one chunk per entity and run (a partition per file ran a 1M-person stack
    out of memory); a chunk whose versions are all superseded or gone is removed, and a marker
    of the earlier one-folder-per-version layout is parsed again."""
    inp = tmp_path / "input"
    shutil.copytree(simulated, inp)
    landed = tmp_path / "landed"
    ingest_source("hubspot_forms", inp, landed)
    cache = landed / ".parsed" / "hubspot_forms"
    chunks = list(cache.rglob("chunk-*.parquet"))
    assert len(all_files(inp / "hubspot_forms")) > 1
    assert chunks and len(chunks) == len({p.parent for p in chunks})  # one per entity
    first_chunks = sorted(p.name for p in chunks)
    # Every file changes: the first run's chunk holds only superseded versions.
    for rel in all_files(inp / "hubspot_forms"):
        path = inp / "hubspot_forms" / rel
        path.write_bytes(path.read_bytes() + b"\n")
    ingest_source("hubspot_forms", inp, landed)
    second_chunks = sorted(p.name for p in cache.rglob("chunk-*.parquet"))
    assert not set(first_chunks) & set(second_chunks)
    # A marker without a chunk (the earlier layout) and its folder: parsed again, folder gone.
    marker = next((cache / "versions").glob("*.json"))
    body = json.loads(marker.read_text())
    del body["chunk"]
    marker.write_text(json.dumps(body))
    stale = next(p.parent for p in cache.rglob("chunk-*.parquet")) / "_version=old"
    stale.mkdir()
    (stale / "data_0.parquet").write_bytes(b"")
    tables = landed_tables(landed)
    again = ingest_source("hubspot_forms", inp, landed)
    assert again.files_parsed == 1
    assert not stale.exists()
    assert landed_tables(landed) == tables
