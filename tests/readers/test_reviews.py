"""The weekly reconciliation and the monthly root-cause review, on a hand-built snapshot whose
figures are known, and their Dagster jobs: a file kept by date, one chat message linking it."""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from lead_parity.contract import load_contract
from lead_parity.contract.tables import write_contract_tables
from lead_parity.pipeline.incidents import IncidentStore, configured_sinks, deliver_pending
from lead_parity.pipeline.incidents.sinks import SINK_SETTINGS
from lead_parity.pipeline.publish import publish_snapshot
from lead_parity.readers.report.reviews import write_review

AS_OF = datetime(2026, 10, 12, 10, tzinfo=UTC)
# (conversion_date, hop, root_cause, origin): drops in August and September, and in October a
# cause never seen before on its hop.
DROPS = (
    [("2026-08-20", "crm", "integration_failure", "google")] * 3
    + [("2026-09-15", "crm", "integration_failure", "google")] * 2
    + [("2026-10-08", "crm", "integration_failure", "google")] * 4
    + [("2026-10-09", "support", "silent_drop", "ev'il <b>")] * 2
)


def _warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema ops")
        con.execute(
            "create table marts.fct_conversions (conversion_id varchar, conversion_date date, "
            "status varchar, dropped_at_hop varchar, root_cause varchar, origin varchar, "
            "value_usd double)"
        )
        con.executemany(
            "insert into marts.fct_conversions values (?, ?, 'dropped', ?, ?, ?, 100)",
            [[f"c{i}", *row] for i, row in enumerate(DROPS)],
        )
        con.execute(
            "create table marts.fct_hop_parity_daily_totals as select * from (values "
            "(date '2026-10-08', 'crm', 2, 200, 4, 0, true), "
            "(date '2026-10-09', 'crm', 2, 300, 0, 0, false), "
            "(date '2026-10-09', 'support', 4, 100, 2, 0, true), "
            "(date '2026-10-01', 'crm', 2, 999, 99, 0, true)) "  # before the week: left out
            "t(conversion_date, hop, hop_order, expected, dropped, pending, slo_breached)"
        )
        con.execute(
            "create table ops.review_queue as select * from (values "
            "('a', 'dead_letter', 'done', 'handled', timestamp '2026-10-08 10:00', "
            " timestamp '2026-10-08 10:30', null::timestamp), "
            "('b', 'dead_letter', 'done', 'handled', timestamp '2026-10-09 10:00', "
            " timestamp '2026-10-09 11:30', timestamp '2026-10-09 11:00'), "
            "('c', 'dead_letter', 'done', 'reached', timestamp '2026-10-09 12:00', "
            " timestamp '2026-10-09 12:10', null::timestamp), "
            "('d', 'high_intent_unassigned', 'open', null, timestamp '2026-10-11 09:00', "
            " null::timestamp, null::timestamp)) "
            "t(item_id, kind, state, resolution, opened_at, closed_at, escalated_at)"
        )
        con.execute(
            "create table ops.incidents as select * from (values "
            "('critical', 'resolved', timestamp '2026-10-08 06:00', timestamp '2026-10-09 06:00'),"
            " ('warning', 'open', timestamp '2026-10-10 06:00', null::timestamp)) "
            "t(severity, status, opened_at, resolved_at)"
        )
        con.execute(BUDGET_SQL)


# The error budget by hand (SLO 1%): crm's latest final day has 12 of 2,000 expected dropped
# over 28 days, a budget of 20 with 8 (40%) left at burn rate 0.6; support dropped 7 of 500, a
# budget of 5 overspent by 2 (-40%, burn 1.4): exhausted.
BUDGET_SQL = """
create table marts.fct_parity_budget_daily as select * from (values
    ('crm', date '2026-10-08', 1000, 5, 10.0, 5.0, 50.0, 0.0, 0.4, 0.5, null, false),
    ('crm', date '2026-10-09', 2000, 12, 20.0, 8.0, 40.0, 0.0, 0.5, 0.6, null, false),
    ('support', date '2026-10-09', 500, 7, 5.0, -2.0, -40.0, 2.0, 2.0, 1.4, 'ticket', true))
t(hop, budget_date, expected_28d, dropped_28d, error_budget, budget_remaining,
  budget_remaining_pct, burn_rate_1d, burn_rate_3d, burn_rate_28d, burn_alert,
  is_budget_exhausted)
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reviews")
    _warehouse(root / "warehouse.duckdb")
    write_contract_tables(load_contract(), root / "landed" / "_contract", AS_OF)
    publish_snapshot(root / "warehouse.duckdb", root / "published")
    return root


def _cells(page: str, section: str) -> list[list[str]]:
    body = page.split(f"id='{section}'")[1].split("<h2")[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr.*?</tr>", body)
            if "<td" in row]  # fmt: skip


def test_the_weekly_review_sums_the_week_and_only_the_week(data_dir):
    review = write_review(data_dir / "published", data_dir / "reports", "weekly")
    assert review.path == (data_dir / "reports" / "weekly" / "2026-10-12.html").resolve()
    page = review.path.read_text()
    assert _cells(page, "parity") == [
        ["crm", "500", "4", "0.80", "1", "held"],
        ["support", "100", "2", "2.00", "1", "breached"],
    ]
    drops = _cells(page, "drops")
    assert drops[0] == ["crm", "integration_failure", "google", "4", "$400"]
    assert drops[1][2] == "ev&#x27;il &lt;b&gt;"  # escaped, never pasted
    assert _cells(page, "queue") == [
        ["dead_letter", "3", "2", "1", "0", "1", "60.0"],
        ["high_intent_unassigned", "1", "0", "0", "1", "0", "–"],
    ]
    assert _cells(page, "incidents") == [
        ["critical", "1", "1", "0", "24.0"],
        ["warning", "1", "0", "1", "–"],
    ]
    assert _cells(page, "budget") == [
        ["crm", "2026-10-09", "40.0", "0.60", "", "left"],
        ["support", "2026-10-09", "-40.0", "1.40", "ticket", "exhausted"],
    ]
    assert "<b>Budget exhausted at support</b>" in page
    assert review.figures == {"hops_breached": 1, "dropped": 6, "queue_opened": 4,
                              "queue_handled": 2, "budgets_exhausted": 1}  # fmt: skip
    assert "@" not in page


def test_the_monthly_review_shows_the_trend_and_the_causes_new_this_month(data_dir):
    review = write_review(data_dir / "published", data_dir / "reports", "monthly")
    assert review.path.name == "2026-10.html" and review.label == "2026-10"
    page = review.path.read_text()
    assert _cells(page, "new") == [["support", "silent_drop", "2"]]
    assert _cells(page, "trend") == [
        ["crm", "integration_failure", "3", "2", "4"],
        ["support", "silent_drop", "0", "0", "2"],
    ]
    assert review.figures["new_causes"] == 1 and review.figures["dropped_this_month"] == 6


class _Hook(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        _Hook.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.bodies = []
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Hook.bodies
    server.shutdown()
    server.server_close()


def test_the_review_jobs_keep_files_by_date_and_announce_each_review_once(
    data_dir, tmp_path, hook, monkeypatch
):
    from orchestration.definitions import defs

    url, received = hook
    monkeypatch.setenv("LEAD_PARITY_WEBHOOK_URL", url)
    monkeypatch.setenv("LEAD_PARITY_REPORTS_URL", "https://reports.example/lead-parity/")
    config = {"resources": {"lead_parity": {"config": {
        "input_dir": str(tmp_path), "warehouse": str(data_dir / "warehouse.duckdb")}}}}  # fmt: skip
    for _ in range(2):  # a retried tick renders again but announces nothing new
        result = defs.get_job_def("weekly_review_job").execute_in_process(run_config=config)
        assert result.success
    assert (data_dir / "reports" / "weekly" / "2026-10-12.html").is_file()

    store = IncidentStore.in_history(data_dir / "history")
    report = deliver_pending(store, configured_sinks(os.environ, SINK_SETTINGS))
    assert sum(report.delivered.values()) == 1
    (body,) = [b for b in received if b["event_type"] == "review.published"]
    assert body["review"]["link"] == "https://reports.example/lead-parity/weekly/2026-10-12.html"
    assert body["review"]["figures"]["hops_breached"] == 1

    schedules = {s.name: s for s in defs.schedules}
    assert schedules["weekly_review_schedule"].cron_schedule == "0 7 * * 1"
    assert schedules["monthly_review_schedule"].cron_schedule == "0 7 1 * *"
