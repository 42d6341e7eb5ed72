"""The dashboard's verdict (issue 22) and incident actions (issue 19), in Debian's chromium.

One small stack for the module, built without dbt: the synthetic marts, incidents opened by the
real judge and store from its SLO evaluations (one a campaign slice that asked for a pause, so
resolving it needs a postmortem link), published. One dashboard serves every test. Figures on
the page are compared with plain SQL on the snapshot, actions with `lead-parity incidents` run
as a user runs it, while another process holds the warehouse's write lock.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from browser import block_network, chromium, colour_share
from synthetic_marts import build_synthetic_warehouse
from test_dashboard import running_dashboard

from lead_parity.contract import load_contract
from lead_parity.pipeline.incidents import IncidentStore, evaluate_in_run, mirror_to_warehouse
from lead_parity.pipeline.publish import open_snapshot, publish_snapshot
from lead_parity.readers.dashboard import formats, queries
from lead_parity.readers.report import data, palette

pytestmark = pytest.mark.browser

CLI = str(Path(sys.executable).with_name("lead-parity"))
CAMPAIGN = "spring 'launch'"  # real campaign names carry quotes
RAW_FLOAT = re.compile(r"\d\.\d{3,}")  # 68.2927: a number nobody formatted
WAIT_MS = 120_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("verdict") / "data"
    warehouse = root / "warehouse.duckdb"
    build_synthetic_warehouse(warehouse, operating=True)
    con = duckdb.connect(str(warehouse))
    try:
        # A critical campaign slice on a recent final day: it asks to pause the campaign.
        con.execute(
            "insert into ops.slo_evaluations (evaluated_at, rule, scope, conversion_date, "
            "conversion_type, origin, hop, observed, threshold, passed, severity, expected, "
            "dropped) values (timestamp '2026-10-12 10:00:00', 'parity', ?, date '2026-10-10', "
            "'demo_request', ?, 'crm', 12.5, 1.0, false, 'critical', 40, 5)",
            [f"2026-10-10|crm|demo_request|{CAMPAIGN}", CAMPAIGN],
        )
    finally:
        con.close()
    evaluate_in_run(warehouse, root / "history", load_contract(), run_url=None, env={})
    published = root / "published"
    publish_snapshot(warehouse, published)
    return {"root": root, "warehouse": warehouse, "published": published}


@pytest.fixture(scope="module")
def served(stack, tmp_path_factory):
    log = tmp_path_factory.mktemp("verdict_log") / "streamlit.log"
    with running_dashboard(stack["published"], log) as dashboard, chromium() as browser:
        yield dashboard, browser
    assert "Traceback" not in log.read_text()


@pytest.fixture
def page(served):
    dashboard, browser = served
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    blocked = block_network(context, (f"http://127.0.0.1:{dashboard['port']}/", "data:", "blob:"))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.base_url = dashboard["url"]
    yield page
    assert page.locator("[data-testid='stException']").count() == 0
    assert blocked == [] and errors == []
    context.close()


def _settled(page) -> None:
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=WAIT_MS)


def _overview(page, query: str = "") -> None:
    page.goto(page.base_url + query)
    page.wait_for_selector("text=Open incidents", timeout=WAIT_MS)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.st-key-parity_small_multiples .vega-embed'))
                 .some(e => e.querySelector('canvas, svg'))""",
        timeout=WAIT_MS,
    )
    _settled(page)


def _cells(page, container: str) -> list[str]:
    """Texts of a Streamlit dataframe's cells (its accessible grid), row by row."""
    page.locator(f".st-key-{container}").scroll_into_view_if_needed()
    cells = page.locator(f".st-key-{container} [id^='glide-cell']")
    cells.first.wait_for(state="attached", timeout=WAIT_MS)
    return [cells.nth(i).text_content() for i in range(cells.count())]


def _marts(published: Path) -> dict:
    """What the headline must say, straight from the snapshot in plain SQL."""
    with open_snapshot(published) as con:
        since = data.period(con).since
        hops = con.execute(
            """
            select hop, count(*) filter (where pending = 0 and expected > 0),
                count(*) filter (where pending = 0 and slo_breached),
                sum(dropped) filter (where pending = 0), sum(expected) filter (where pending = 0)
            from marts.fct_hop_parity_daily_totals
            where coverage = 'covered' and conversion_date >= ? group by hop
            """,
            [since],
        ).fetchall()
        budget = dict(
            con.execute(
                "select hop, arg_max(budget_remaining_pct, budget_date) "
                "from marts.fct_parity_budget_daily group by hop"
            ).fetchall()
        )
        incidents = con.execute(
            "select count(*), count(*) filter (where severity = 'critical') "
            "from ops.incidents where resolved_at is null"
        ).fetchone()
        queue = con.execute(
            "select count(*), count(*) filter (where due_at <= now()::timestamp) "
            "from ops.review_queue where state != 'done'"
        ).fetchone()
        ranking = con.execute(
            """
            select dropped_at_hop, root_cause, count(*), min(owner), sum(value_usd)
            from marts.rpt_dropped_leads where cast(converted_at as date) >= ?
            group by all order by 5 desc, 3 desc, 1, 2 limit 5
            """,
            [since],
        ).fetchall()
        dropped = data.dropped_leads(con, since)
    return {
        "hops": hops, "budget": budget, "incidents": incidents, "queue": queue,
        "ranking": ranking, "dropped": dropped,
    }  # fmt: skip


def test_headline_fix_first_and_small_multiples_equal_the_marts(stack, page, tmp_path):
    marts = _marts(stack["published"])
    _overview(page)
    for hop, final_days, breached_days, dropped, expected in marts["hops"]:
        card = page.locator(f".st-key-headline_{hop}").inner_text()
        assert ("SLO breached" if breached_days else "SLO held") in card, card
        assert f"{breached_days} of {final_days} final days breached" in card, card
        assert f"{dropped:,} dropped of {expected:,} expected" in card, card
        assert f"budget left {marts['budget'][hop]:,.1f}%" in card, card
    waiting = page.locator(".st-key-headline_waiting").inner_text()
    open_incidents, critical = marts["incidents"]
    assert f"Open incidents\n\n{open_incidents:,}" in waiting or (
        f"{open_incidents:,}" in waiting.split("Open incidents")[1].split("Queue")[0]
    )
    assert f"{critical:,} critical" in waiting
    waiting_items, due = marts["queue"]
    assert f"{due:,}" in waiting.split("Queue items due")[1]
    assert f"of {waiting_items:,} waiting" in waiting

    # What to fix first: the run verdict's ranking, row for row (rank, hop, cause, n, owner, $).
    cells = _cells(page, "fix_first")
    for rank, (hop, cause, n, owner, usd) in enumerate(marts["ranking"], start=1):
        row = cells[(rank - 1) * 6 : rank * 6]
        assert row[:5] == [str(rank), hop, cause, str(n), owner], row
        assert float(row[5]) == usd

    # Small multiples: one chart per hop, each drawn, each with its SLO line.
    multiples = page.locator(".st-key-parity_small_multiples .vega-embed")
    assert multiples.count() == len(marts["hops"])
    for i in range(multiples.count()):
        shot = multiples.nth(i).screenshot(path=str(tmp_path / f"parity_{i}.png"))
        assert colour_share(shot, palette.SLO_LINE, 40) > 0.0001, f"no SLO line in chart {i}"
    headline = page.locator(".st-key-headline_hops")
    headline.screenshot(path=str(tmp_path / "headline.png"))
    # Not blank: the breached badges' red and the card text.
    assert colour_share((tmp_path / "headline.png").read_bytes(), "#ffffff", 3) < 0.95
    grid = page.locator(".st-key-parity_small_multiples").screenshot(
        path=str(tmp_path / "small_multiples.png")
    )
    for hop in ("marketing", "crm", "support"):
        assert colour_share(grid, palette.HOPS[hop]) > 0.0005, f"no {hop} line"

    body = page.inner_text("body")
    assert not RAW_FLOAT.findall(body), RAW_FLOAT.findall(body)[:5]


def _download_dropped(page) -> list[dict]:
    button = page.get_by_role("button", name="Download CSV")
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=60_000) as download:
        button.click()
    return list(csv.DictReader(io.StringIO(download.value.path().read_text())))


def test_drill_down_from_a_hop_and_from_a_link_shows_only_that_hops_leads(stack, page):
    dropped = _marts(stack["published"])["dropped"]
    _overview(page)
    page.get_by_role("button", name="Dropped leads at crm", exact=True).click()
    at_crm = dropped[dropped["dropped_at_hop"] == "crm"]
    page.get_by_text(f"{len(at_crm):,} dropped conversions match").wait_for(timeout=WAIT_MS)
    _settled(page)
    assert page.url.endswith("?hop=crm")
    rows = _download_dropped(page)
    assert {r["dropped_at_hop"] for r in rows} == {"crm"}
    assert sorted(r["conversion_id"] for r in rows) == sorted(at_crm["conversion_id"])

    # A shared link opens with the filter already set.
    _overview(page, "?hop=support_assignment")
    at_support = dropped[dropped["dropped_at_hop"] == "support_assignment"]
    assert 0 < len(at_support) < len(dropped)
    page.get_by_text(f"{len(at_support):,} dropped conversions match").wait_for(timeout=WAIT_MS)
    rows = _download_dropped(page)
    assert sorted(r["conversion_id"] for r in rows) == sorted(at_support["conversion_id"])


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "incidents", *args], capture_output=True, text=True, timeout=120)


def _act(page, incident_id: str, button: str, postmortem: str = "") -> None:
    # Once a rerun has finished, the page holds two selectboxes (shown status, incident); an
    # element of the run before can linger for a moment.
    page.wait_for_function(
        "document.querySelectorAll(\"[data-testid='stSelectbox']\").length === 2",
        timeout=WAIT_MS,
    )
    label = page.get_by_text("Incident", exact=True)
    page.locator("[data-testid='stSelectbox']").filter(has=label).click()
    page.get_by_role("option").filter(has_text=incident_id).click()
    page.get_by_role("textbox", name="Your name").fill("Ann O'Neil")
    page.get_by_role("textbox", name="Note").fill("CRM sync restarted <b>")
    page.get_by_role("textbox", name="Postmortem link (resolve)").fill(postmortem)
    page.get_by_role("button", name=button, exact=True).click()


def test_ack_and_resolve_from_the_page_while_a_run_holds_the_warehouse(
    stack, page, warehouse_lock_holder, tmp_path
):
    holder = warehouse_lock_holder(stack["warehouse"])
    store = IncidentStore.in_history(stack["root"] / "history")
    live = store.incidents("live")
    paused = next(i for i in live if i["postmortem_required"])
    plain = next(i for i in live if not i["postmortem_required"])
    warehouse = ["--warehouse", str(stack["warehouse"])]

    page.goto(page.base_url + "incidents")
    page.get_by_role("button", name="Acknowledge").wait_for(timeout=WAIT_MS)
    _settled(page)
    _act(page, plain["incident_id"], "Acknowledge")
    page.get_by_text(f"{plain['incident_id']} acknowledged by Ann O'Neil").wait_for(timeout=WAIT_MS)
    _settled(page)
    cells = _cells(page, "incidents_table")
    assert cells[cells.index(plain["incident_id"]) + 1] == "acknowledged"  # shown at once
    shot = page.locator(".st-key-incidents_table").screenshot(path=str(tmp_path / "acked.png"))
    assert colour_share(shot, "#ffffff", 3) < 0.95  # the table drawn, not a blank box
    listed = _cli("list", "--json", *warehouse)
    assert listed.returncode == 0, listed.stderr
    acked = next(i for i in json.loads(listed.stdout) if i["incident_id"] == plain["incident_id"])
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "Ann O'Neil"
    shown = _cli("show", plain["incident_id"], *warehouse)
    assert "acknowledged (CRM sync restarted <b>)" in shown.stdout, shown.stdout

    # The postmortem gate: refused without a link (one line on the page), resolved with one.
    _act(page, paused["incident_id"], "Resolve")
    page.get_by_text("resolve it with --postmortem URL").wait_for(timeout=WAIT_MS)
    _settled(page)
    assert store.incident(paused["incident_id"])["status"] == "open"
    _act(page, paused["incident_id"], "Resolve", "https://wiki.example.com/pm/42")
    page.get_by_text(f"{paused['incident_id']} resolved by Ann O'Neil").wait_for(timeout=WAIT_MS)
    listed = json.loads(_cli("list", "--json", "--status", "resolved", *warehouse).stdout)
    resolved = next(i for i in listed if i["incident_id"] == paused["incident_id"])
    assert resolved["resolved_by"] == "Ann O'Neil"
    assert resolved["postmortem_url"] == "https://wiki.example.com/pm/42"
    assert holder.poll() is None, "the lock holder died: the page fought it over the warehouse"

    # The next run folds both actions into ops.incidents (the mirror step of the run).
    holder.stdin.close()
    holder.wait(timeout=30)
    with duckdb.connect(str(stack["warehouse"])) as con:
        mirror_to_warehouse(store, con)
        rows = dict(
            con.execute(
                "select incident_id, status from ops.incidents where incident_id in (?, ?)",
                [plain["incident_id"], paused["incident_id"]],
            ).fetchall()
        )
    assert rows == {plain["incident_id"]: "acknowledged", paused["incident_id"]: "resolved"}


def test_every_number_column_of_every_table_gets_a_format(stack):
    """Streamlit draws tables on a canvas, so their formats are checked where they are made."""
    with open_snapshot(stack["published"]) as con:
        since = data.period(con).since
        frames = {
            "dropped_leads": data.dropped_leads(con, since),
            "open_incidents": data.open_incidents(con),
            "dead_letters_summary": data.dead_letters_summary(con, since),
            "detection_and_handling": data.detection_and_handling(con, since),
            "parity_by_campaign": data.parity_by_campaign(con, since),
        }
    for name, frame in frames.items():
        assert not frame.empty, name
        shown = formats.tidy(frame)
        config = formats.column_config(shown)
        for column in shown.columns:
            if shown[column].dtype.kind in "iuf":
                assert column in config, f"{name}.{column} shows raw numbers"
                fmt = config[column]["type_config"]["format"]
                if column.endswith("_pct"):
                    assert fmt == formats.ONE_DECIMAL, (name, column, fmt)
                else:
                    assert "," in fmt, (name, column, fmt)  # thousands separators


def test_a_snapshot_without_the_operating_tables_gives_empty_figures():
    """An older snapshot (no totals, budget, queue or incidents yet) still renders a headline."""
    con = duckdb.connect(":memory:")
    con.execute("create schema marts")
    since = data.period(con).since
    assert queries.hop_headline(con, since).empty
    assert data.parity_budget_daily(con, since).empty
    assert queries.fix_first_ranking(con, since).empty
    assert queries.incident_counts(con) == {"open": 0, "critical": 0}
    assert queries.queue_due(con, datetime.now(UTC)) == {"waiting": 0, "due": 0}
