"""A real `lead-parity run` over hostile input: files outside the input folder are never read,
bad lines cost one record each, and no raw email reaches the published snapshot outside
`marts.rpt_dropped_leads` (the full raw text stays in the live warehouse's ops schema)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

CLI = [sys.executable, "-m", "lead_parity.cli.main"]
# Emails only the bad records carry: in a line that is not JSON, an unparsable timestamp, a
# wrong-typed value, a line that is not UTF-8, an escaped "@", a bad contact on an API page.
LEAKS = ("leak.one@example.org", "leak.two@example.org", "leak.three@example.org",
         "leak.four@example.org", "leak.five@example.org", "leak.six@example.org")  # fmt: skip
OUTSIDE_SECRET = "outside-secret-b51c"
EMAIL = re.compile(rb"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _track(mid: str, **fields) -> dict:
    return {"type": "track", "messageId": mid, "timestamp": "2026-10-01T10:00:00Z",
            "event": "Demo Requested", **fields}  # fmt: skip


def _add_hostile_input(input_dir: Path, outside: Path) -> None:
    seg = input_dir / "segment"
    lines = [
        b'{"type": "track", "messageId": "bad-1", "properties": {"email": "' + LEAKS[0].encode(),
        json.dumps(_track("bad-2", timestamp=f"when {LEAKS[1]} says")).encode(),
        json.dumps(_track("bad-3", properties={"email": LEAKS[2], "lead_id": {"x": 1}})).encode(),
        json.dumps(_track("bad-4", properties={"email": LEAKS[3], "x": "caf"})).encode()[:-3]
        + b'\xe9"}}',
        json.dumps(_track("bad-5", properties={"lead_id": ["L"], "company": "x"}))
        .replace('"x"}', '"' + LEAKS[4].replace("@", "\\u0040") + '"}')
        .encode(),
        json.dumps(_track("good-1", properties={"email": "fine@example.com"})).encode(),
    ]
    (seg / "zz_hostile.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    contact = {"id": "c-leak", "createdAt": "yesterday", "updatedAt": "x"}
    contact["properties"] = {"createdate": "never", "email": LEAKS[5]}
    contacts = {"results": [contact]}
    (input_dir / "hubspot_contacts" / "zz_hostile.json").write_text(json.dumps(contacts))
    # Files that must be accounted for and never read.
    (outside / "passwd.jsonl").write_text(json.dumps(_track(OUTSIDE_SECRET)) + "\n")
    (seg / "zz_link_out.jsonl").symlink_to(outside / "passwd.jsonl")
    os.mkfifo(seg / "zz_fifo.jsonl")
    (seg / "zz_folder.jsonl").mkdir()
    (seg / "zz_dangling.jsonl").symlink_to(seg / "gone.jsonl")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("leak")
    input_dir, outside = root / "input", root / "outside"
    outside.mkdir()
    sim = subprocess.run(
        [*CLI, "simulate", "--out", str(input_dir), "--leads", "150", "--days", "3",
         "--seed", "5"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert sim.returncode == 0, sim.stderr
    _add_hostile_input(input_dir, outside)
    as_of = json.loads((input_dir / "truth" / "manifest.json").read_text())["as_of"]
    warehouse = root / "data" / "warehouse.duckdb"
    done = subprocess.run(
        [*CLI, "run", "--input", str(input_dir), "--warehouse", str(warehouse), "--as-of", as_of],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    return {"done": done, "warehouse": warehouse, "input": input_dir}


def _rows(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def test_the_run_completes_and_accounts_for_every_hostile_file(hostile_run):
    done = hostile_run["done"]
    assert done.returncode == 0, done.stderr[-3000:]
    with duckdb.connect(str(hostile_run["warehouse"]), read_only=True) as con:
        ledger = dict(
            (f, (r, lo, q, d))
            for f, r, lo, q, d in _rows(
                con,
                "select file, records_read, records_loaded, records_quarantined, duplicates "
                "from ops.ingestion_ledger",
            )
        )
        reasons = dict(
            _rows(
                con,
                "select file || '#' || position, reason "
                "from ops.quarantined_records where file like '%zz_%'",
            )
        )
        loaded = _rows(con, "select count(*) from ops.quarantined_records "
                            f"where raw like '%{OUTSIDE_SECRET}%'")  # fmt: skip
    for file, (read, landed, quarantined, dupes) in ledger.items():
        assert read == landed + quarantined + dupes, file
    assert ledger["segment/zz_hostile.jsonl"] == (6, 1, 5, 0)
    for name in ("zz_link_out", "zz_fifo", "zz_folder", "zz_dangling"):
        assert ledger[f"segment/{name}.jsonl"] == (1, 0, 1, 0)
    assert "outside the input folder" in reasons["segment/zz_link_out.jsonl#0"]
    assert "FIFO" in reasons["segment/zz_fifo.jsonl#0"]
    assert reasons["segment/zz_hostile.jsonl#3"] == "line is not valid UTF-8"
    assert "wrong type for properties.lead_id" in reasons["segment/zz_hostile.jsonl#2"]
    assert loaded == [(0,)]


def test_the_live_warehouse_keeps_the_full_raw_text(hostile_run):
    with duckdb.connect(str(hostile_run["warehouse"]), read_only=True) as con:
        raw = " ".join(r[0] or "" for r in _rows(con, "select raw from ops.quarantined_records"))
    for leak in (LEAKS[0], LEAKS[1], LEAKS[2], LEAKS[5]):
        assert leak in raw


def _published_files(data_dir: Path) -> list[Path]:
    roots = [data_dir / "published", data_dir / ".published_versions"]
    return sorted({p.resolve() for r in roots for p in r.rglob("*") if p.is_file()})


def _text_of_table(con, source: str) -> bytes:
    rows = con.execute(f"select * from {source}").fetchall()
    return "\n".join(repr(r) for r in rows).encode()


def test_no_raw_email_is_published_outside_the_dropped_leads_work_list(hostile_run):
    assert hostile_run["done"].returncode == 0
    data_dir = hostile_run["warehouse"].parent
    files = _published_files(data_dir)
    assert any(f.suffix == ".parquet" for f in files) and any(f.suffix == ".duckdb" for f in files)
    # Every email the input holds, not only the planted ones.
    known = {m.group().lower() for p in hostile_run["input"].rglob("*")
             if p.is_file() and not p.is_symlink() and p.suffix in (".json", ".jsonl")
             for m in EMAIL.finditer(p.read_bytes())}  # fmt: skip
    known |= {leak.encode() for leak in LEAKS}
    assert len(known) > 50
    checked = 0
    with duckdb.connect() as con:
        for file in files:
            if file.suffix == ".parquet":
                if file.name == "rpt_dropped_leads.parquet":
                    continue
                text = _text_of_table(con, f"read_parquet('{file}')")
            elif file.suffix == ".duckdb":
                con.execute(f"attach '{file}' as snap (read_only)")
                tables = _rows(
                    con,
                    "select table_schema, table_name from information_schema.tables "
                    "where table_catalog = 'snap'",
                )
                text = b"\n".join(
                    _text_of_table(con, f'snap."{s}"."{t}"')
                    for s, t in tables if (s, t) != ("marts", "rpt_dropped_leads")
                )  # fmt: skip
                con.execute("detach snap")
            else:
                text = file.read_bytes()
            found = {m.group().lower() for m in EMAIL.finditer(text)} & known
            assert not found, f"{file}: {sorted(found)[:5]}"
            lowered = text.lower()
            assert not [leak for leak in LEAKS if leak.encode() in lowered], file
            checked += 1
    assert checked >= 10
    # The quarantine is still published, masked and cut short.
    with duckdb.connect() as con:
        quarantine = data_dir / "published" / "ops" / "quarantined_records.parquet"
        masked = _rows(
            con, "select raw from read_parquet(?) where file like '%zz_hostile%'", [str(quarantine)]
        )
    assert len(masked) == 6 and all("@" not in r[0] for r in masked)
    assert sum("<email>" in r[0] for r in masked) >= 5
