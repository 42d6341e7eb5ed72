"""The reconciliation report: one self-contained HTML file whose charts draw with no network."""

from __future__ import annotations

import re

import pytest
from browser import block_network, chromium, colour_share

from lead_parity.pipeline.publish import open_snapshot
from lead_parity.readers.report import data, palette, write_report

CHART_COUNT = 6  # plus the error budget's, when the snapshot has fct_parity_budget_daily
EXTERNAL = re.compile(r"https?://", re.I)
RESOURCE_ATTR = re.compile(r"""\b(?:src|href|xlink:href|action|poster)\s*=\s*["']?([^"'\s>]+)""")


def chart_count(published) -> int:
    with open_snapshot(published) as con:
        return CHART_COUNT + data.has_table(con, data.BUDGET_MART)


@pytest.fixture(scope="module")
def report(synthetic_stack, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "reconciliation.html"
    summary = write_report(synthetic_stack["published"], out)
    return {"path": out, "html": out.read_text(encoding="utf-8"), "summary": summary}


def test_report_is_self_contained(report, synthetic_stack):
    page = report["html"]
    assert EXTERNAL.search(page) is None
    # Whatever resources it names are in-page fragments or data URIs, never files or hosts.
    for target in RESOURCE_ATTR.findall(page):
        assert target.startswith(("#", "data:")), target
    assert "<script" not in page.lower()
    assert report["summary"]["charts"] == chart_count(synthetic_stack["published"]) == 7


def test_report_states_the_figures_of_the_snapshot(report, synthetic_stack):
    page = report["html"]
    conv = synthetic_stack["conversions"]
    dropped = conv[conv["status"] == "dropped"]
    assert f"${dropped['value_usd'].sum():,.0f}" in page
    assert f">{len(dropped):,} (" in page  # the dropped KPI
    for heading in (
        "What to fix first", "Reconciliation across systems", "Discrepancy per hop and campaign",
        "Top causes, with samples", "Assignment latency", "Dead letters and replay success",
        "Revenue at risk", "Open incidents", "Error budget of the parity SLO",
    ):  # fmt: skip
        assert f">{heading}</h2>" in page
    with open_snapshot(synthetic_stack["published"]) as con:
        top = data.top_causes(con, data.period(con).since)
    first = top.iloc[0]
    fix_first = page.split("What to fix first")[1].split("</ol>")[0]
    assert f"{first.dropped_at_hop} / {first.root_cause}" in fix_first
    # No email addresses: the report is forwarded; contact details stay in the dashboard.
    assert re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", page) is None


def test_ids_with_quotes_and_markup_are_escaped(report, synthetic_stack):
    page = report["html"]
    odd = [c for c in synthetic_stack["conversions"]["conversion_id"] if "<" in c]
    assert odd
    assert "&#x27;&quot;&lt;b&gt;" in page
    assert "'\"<b>" not in page


def test_same_snapshot_gives_the_same_bytes(report, synthetic_stack, tmp_path):
    again = tmp_path / "again.html"
    write_report(synthetic_stack["published"], again)
    assert again.read_bytes() == report["path"].read_bytes()


@pytest.mark.browser
@pytest.mark.parametrize(
    "stack_name",
    [
        pytest.param("synthetic_stack", id="synthetic"),
        pytest.param("simulated_stack", id="simulated", marks=pytest.mark.slow),
    ],
)
def test_every_chart_draws_in_chromium_with_the_network_blocked(stack_name, request, tmp_path):
    stack = request.getfixturevalue(stack_name)
    out = tmp_path / "reconciliation.html"
    write_report(stack["published"], out)
    page_text = out.read_text(encoding="utf-8")
    assert EXTERNAL.search(page_text) is None
    report = {"path": out}
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        blocked = block_network(context, ("file://", "data:"))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(report["path"].as_uri())
        page.wait_for_load_state("load")
        figures = page.locator("figure.chart")
        charts = chart_count(stack["published"])
        assert figures.count() == charts
        for i in range(charts):
            figure = figures.nth(i)
            figure.scroll_into_view_if_needed()
            box = figure.locator("svg").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100
            drawn = figure.evaluate(
                """f => Array.from(f.querySelectorAll('svg path, svg rect, svg use'))
                        .filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; })
                        .length"""
            )
            assert drawn > 10, f"chart {i} has {drawn} drawn shapes"
        funnel = figures.nth(0).screenshot()
        assert colour_share(funnel, palette.REACHED) > 0.02
        assert colour_share(funnel, palette.DROPPED) > 0.001
        causes = page.locator("figure.chart:has(svg[aria-label='root-causes'])").screenshot()
        assert colour_share(causes, palette.CAUSES["integration_failure"]) > 0.001
        latency = page.locator("figure.chart:has(svg[aria-label='latency'])").screenshot()
        assert colour_share(latency, palette.MEDIAN) > 0.001
        assert colour_share(latency, palette.P95) > 0.001
        if charts > CHART_COUNT:
            budget = page.locator("figure.chart:has(svg[aria-label='error-budget'])").screenshot()
            assert colour_share(budget, palette.HOPS["crm"]) > 0.001
        assert blocked == []
        assert errors == []
        context.close()
