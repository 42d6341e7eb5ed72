"""The Streamlit dashboard, driven in Debian's chromium while a run holds the live warehouse."""

from __future__ import annotations

import csv
import io
import socket
import subprocess
from contextlib import contextmanager

import pytest
from browser import block_network, chromium, colour_share

from lead_parity.pipeline.publish import open_snapshot
from lead_parity.readers.dashboard import start_dashboard, wait_until_ready
from lead_parity.readers.report import data, palette

pytestmark = pytest.mark.browser

# parity x5 (one per hop), funnel x3 (one per conversion type), latency, causes, revenue, dead
# letters (the budget and telemetry charts draw when the snapshot has their marts)
MIN_CHARTS = 12
ERROR_TEXT = ("Traceback", "Error", "Exception", "No published snapshot")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


STACKS = [
    pytest.param("synthetic_stack", id="synthetic"),
    pytest.param("simulated_stack", id="simulated", marks=pytest.mark.slow),
]


@contextmanager
def running_dashboard(published, log):
    port = _free_port()
    with open(log, "w") as out:
        process = start_dashboard(published, port, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(port, timeout=120)
        yield {"url": f"http://127.0.0.1:{port}/", "port": port}
    finally:
        process.terminate()
        process.wait(timeout=30)


def _expected_charts(published) -> dict[str, int]:
    """Charts the page must draw: one small parity chart per hop, one funnel per conversion
    type, one per non-empty section (the total under "charts")."""
    with open_snapshot(published) as con:
        since = data.period(con).since
        hops = data.daily_parity(con, since)["hop"].nunique()
        types = data.funnel(con, since)["conversion_type"].nunique()
        sections = [
            data.latency_daily(con, since),
            data.parity_budget_daily(con, since),
            data.causes_daily(con, since),
            data.revenue_at_risk(con, since),
            data.dead_letters_daily(con, since),
            data.rate_limits_daily(con, since),  # telemetry: 429 share per vendor
            data.enrichment_daily(con, since),  # telemetry: enrichment latency
        ]
    charts = hops + types + sum(1 for frame in sections if not frame.empty)
    return {"charts": charts, "hops": hops, "types": types}


def _wait_for_charts(page, count: int) -> None:
    page.wait_for_selector("text=Open incidents", timeout=180_000)
    page.wait_for_function(
        f"""() => Array.from(document.querySelectorAll('.vega-embed'))
                 .filter(e => e.querySelector('canvas, svg')).length >= {count}""",
        timeout=180_000,
    )
    # Streamlit reruns stream in; wait until the script reports it has finished.
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=180_000)


@pytest.mark.parametrize("stack_name", STACKS)
def test_dashboard_renders_every_chart_while_a_run_holds_the_warehouse(
    stack_name, request, warehouse_lock_holder, tmp_path
):
    stack = request.getfixturevalue(stack_name)
    warehouse_lock_holder(stack["warehouse"])
    with open_snapshot(stack["published"]) as con:
        expected = data.dropped_leads(con, data.period(con).since)
    expected_charts = _expected_charts(stack["published"])
    charts_expected, hops = expected_charts["charts"], expected_charts["hops"]
    assert charts_expected >= MIN_CHARTS - 1
    with (
        running_dashboard(stack["published"], tmp_path / "streamlit.log") as dashboard,
        chromium() as browser,
    ):
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        allowed = (f"http://127.0.0.1:{dashboard['port']}/", "data:", "blob:")
        blocked = block_network(context, allowed)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(dashboard["url"])
        _wait_for_charts(page, charts_expected)
        body = page.inner_text("body")
        for text in ERROR_TEXT:
            assert text not in body, f"{text!r} on the page"
        assert page.locator("[data-testid='stException']").count() == 0
        for heading in (
            "Funnel per conversion type", "Daily parity per hop", "Assignment latency",
            "Root causes over time", "Revenue at risk", "Dropped leads", "Open incidents",
            "Parity SLO per hop", "What to fix first", "Queue items due",
        ):  # fmt: skip
            assert heading in body
        charts = page.locator(".vega-embed")
        assert charts.count() == charts_expected
        shots = []
        for i in range(charts.count()):
            chart = charts.nth(i)
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            assert box and box["width"] > 150 and box["height"] > 80, f"chart {i}: {box}"
            shots.append(chart.screenshot())
        screenshot = tmp_path / "dashboard.png"
        page.screenshot(path=str(screenshot))
        # Chart colours present: each small multiple its hop's, the funnels reached and dropped,
        # the latency P95.
        assert colour_share(shots[0], palette.HOPS["marketing"]) > 0.001
        funnels = shots[hops : hops + expected_charts["types"]]
        assert colour_share(funnels[0], palette.REACHED) > 0.01
        assert any(colour_share(s, palette.DROPPED) > 0.001 for s in funnels)
        assert any(colour_share(s, palette.P95) > 0.001 for s in shots[hops:])
        assert colour_share(screenshot.read_bytes(), palette.REACHED) > 0.001

        # The dropped-leads list: its count and its CSV download match the snapshot.
        assert f"{len(expected):,} dropped conversions match" in body
        button = page.get_by_role("button", name="Download CSV")
        button.scroll_into_view_if_needed()
        with page.expect_download(timeout=60_000) as download:
            button.click()
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
        assert len(rows) == len(expected)
        assert {r["conversion_id"] for r in rows} == set(expected["conversion_id"])
        assert blocked == []
        assert errors == []
        context.close()
