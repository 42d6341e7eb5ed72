"""The telemetry marts reach readers: published in the snapshot, and shown by the report (the
real `lead-parity report` CLI) with figures that match the simulated input itself."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from lead_parity.pipeline.publish import open_snapshot
from lead_parity.readers.report import data

TELEMETRY_MARTS = (
    "fct_capture_compliance_daily",
    "fct_delivery_receipts_daily",
    "fct_vendor_rate_limits_daily",
    "fct_enrichment_daily",
    "fct_revenue_at_risk_weekly",
)


def _receipts(input_dir: Path) -> list[dict]:
    rows = []
    for path in sorted((input_dir / "receipts").iterdir()):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    continue  # the simulator's deliberately malformed lines
    return rows


@pytest.fixture(scope="module")
def report_page(simulated_stack, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("telemetry_report") / "report.html"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lead-parity")), "report",
         "--warehouse", str(simulated_stack["warehouse"]), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out.read_text(encoding="utf-8")


def test_every_telemetry_mart_is_published(simulated_stack):
    with open_snapshot(simulated_stack["published"]) as con:
        for mart in TELEMETRY_MARTS:
            assert con.execute(f"select count(*) from marts.{mart}").fetchone()[0] > 0, mart


def test_published_429s_and_dead_letters_match_the_raw_receipts(simulated_stack):
    receipts = _receipts(simulated_stack["root"] / "input")
    seen, unique = set(), []
    for r in receipts:
        if isinstance(r, dict) and r.get("receipt_id") not in seen and r.get("attempted_at"):
            seen.add(r["receipt_id"])
            unique.append(r)
    assert any(r.get("status_code") == 429 for r in unique)
    with open_snapshot(simulated_stack["published"]) as con:
        as_of = con.execute("select max(as_of) from contract.settings").fetchone()[0]
        limited = con.execute(
            "select sum(rate_limited) from marts.fct_vendor_rate_limits_daily "
            "where observed_by = 'receipts'"
        ).fetchone()[0]
        dead = con.execute(
            "select sum(dead_lettered) from marts.fct_delivery_receipts_daily"
        ).fetchone()[0]
    in_time = [r for r in unique if r["attempted_at"][:19].replace("T", " ") <= str(as_of)]
    assert limited == sum(r.get("status_code") == 429 for r in in_time)
    dead_days = {
        (r["message_id"], r["hop"], r.get("destination"), r["attempted_at"][:10])
        for r in in_time
        if r.get("outcome") == "dead_lettered"
    }
    assert dead == len(dead_days)


def test_the_report_has_a_telemetry_section_with_the_snapshot_figures(report_page, simulated_stack):
    page = report_page
    assert ">Telemetry</h2>" in page
    for heading in ("Capture compliance", "Delivery receipts per hop",
                    "Vendor rate limiting (HTTP 429)", "Enrichment success and latency",
                    "Revenue at risk per week against the baseline",
                    "Time to detection and to handling"):  # fmt: skip
        assert f">{heading}" in page
    section = page.split(">Telemetry</h2>")[1].split("<h2")[0]
    with open_snapshot(simulated_stack["published"]) as con:
        since = data.period(con).since
        receipts = data.delivery_receipts(con, since)
        weekly = data.revenue_weekly(con)
    for row in receipts.itertuples():
        assert f"<td>{row.hop}</td><td>{row.destination}</td>" in section
        assert f">{row.attempts:,.0f}<" in section
    assert "(baseline)" in section and len(weekly) >= 1


def test_detection_and_handling_times_come_from_the_review_queue():
    con = duckdb.connect()
    con.execute("create schema marts; create schema ops")
    con.execute(
        "create table marts.fct_conversions as select * from (values "
        "('c1', timestamp '2026-10-06 10:00:00'), ('c2', timestamp '2026-10-06 10:00:00'), "
        "('c3', timestamp '2026-10-13 12:00:00'), ('old', timestamp '2026-09-01 12:00:00')) "
        "as t(conversion_id, converted_at)"
    )
    con.execute(
        "create table ops.review_queue as select * from (values "
        "('c1', timestamp '2026-10-06 10:30:00', 'done', timestamp '2026-10-06 11:30:00'), "
        "('c2', timestamp '2026-10-06 11:00:00', 'open', null), "
        "('c3', timestamp '2026-10-13 12:10:00', 'done', timestamp '2026-10-13 12:40:00'), "
        "('old', timestamp '2026-09-01 13:00:00', 'done', timestamp '2026-09-01 14:00:00')) "
        "as t(conversion_id, opened_at, state, closed_at)"
    )
    frame = data.detection_and_handling(con, date(2026, 10, 1))
    assert frame.assign(week_start=frame["week_start"].astype(str)).to_dict("records") == [
        {"week_start": "2026-10-05", "items": 2, "detection_median_min": 45.0, "handled": 1,
         "handling_median_min": 60.0},
        {"week_start": "2026-10-12", "items": 1, "detection_median_min": 10.0, "handled": 1,
         "handling_median_min": 30.0},
    ]  # fmt: skip
