"""The Data Docs site: every suite and its latest result, readable from index.html."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest

from expectations.context import data_docs_index, data_docs_url
from expectations.evaluate import evaluate_all
from expectations.suites import SUITES
from lead_parity.contract import load_contract

from .warehouse_builder import AS_OF


def validation_links(index_html: str) -> dict[str, str]:
    """Suite name -> relative path of its validation page, as the index lists them."""
    links = re.findall(r"validations/([a-z_]+)/([a-z_]+)/[^'\"]+?\.html", index_html)
    paths = re.findall(r"validations/[a-z_]+/[a-z_]+/[^'\"]+?\.html", index_html)
    return {f"{mart}.{rule}": path for (mart, rule), path in zip(links, paths, strict=True)}


def test_the_index_lists_every_suite_with_its_result(warehouse, tmp_path):
    warehouse.parity("crm", "demo_request", "google_ads", expected=100, dropped=6)
    warehouse.conversion("m1", intent_score=90, assignment_latency_s=60)
    warehouse.quarantine(2)
    warehouse.ledger("segment", "a.jsonl", read=3, loaded=1, quarantined=2, duplicates=0)
    docs = tmp_path / "data" / "data_docs"
    assert data_docs_url(docs) is None  # nothing built yet

    outcomes = evaluate_all(warehouse.path, load_contract(), AS_OF, docs)
    # The same evaluation again: its pages are replaced, not added.
    evaluate_all(warehouse.path, load_contract(), AS_OF, docs, rules=["parity"])

    index = data_docs_index(docs)
    assert index == docs.resolve() / "index.html"
    assert data_docs_url(docs) == index.as_uri()
    html = unescape(index.read_text(encoding="utf-8"))
    links = validation_links(html)
    assert set(links) == {spec.suite_name for spec in SUITES.values()}
    assert len(set(links.values())) == len(SUITES)
    failing = {o.spec.suite_name for o in outcomes.values() if not o.passed}
    assert failing == {"fct_hop_parity_daily.parity", "quarantined_records.quarantine"}
    assert html.count("ge-failed-icon") == len(failing)
    assert html.count("ge-success-icon") == len(SUITES) - len(failing)

    parity_page = index.parent / unquote(links["fct_hop_parity_daily.parity"])
    assert parity_page.is_file()
    assert outcomes["parity"].validation_url == Path(parity_page).resolve().as_uri()
    page = unescape(parity_page.read_text(encoding="utf-8"))
    assert "discrepancy_pct" in page
    assert "fct_hop_parity_daily.parity" in page
    suite_page = index.parent / "expectations" / "fct_hop_parity_daily" / "parity.html"
    assert "discrepancy_pct" in unescape(suite_page.read_text(encoding="utf-8"))


@pytest.mark.browser
def test_the_site_works_offline_in_a_browser(warehouse, tmp_path):
    """No page loads anything from outside the site, and the index lists every suite and
    result as rows without JavaScript (GX's own index is an empty table filled from a CDN)."""
    from playwright.sync_api import sync_playwright

    warehouse.parity("crm", "demo_request", "google_ads", expected=100, dropped=6)
    warehouse.conversion("m1", intent_score=90, assignment_latency_s=60)
    docs = tmp_path / "data_docs"
    evaluate_all(warehouse.path, load_contract(), AS_OF, docs)
    pages = sorted(docs.rglob("*.html"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href)=["']https?://[^"']*\.(?:js|css)""", text), page
        assert "url('https://" not in text, page

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page()
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("file:") else 0)
        page.goto(data_docs_index(docs).as_uri())
        results = page.locator("table.ge-index-page-validation-results-table tbody tr")
        assert results.count() == len(SUITES)
        assert page.get_by_text("failed").count() >= 1 and page.get_by_text("passed").count() >= 1
        results.first.locator("a.row-link").click()
        page.wait_for_load_state()
        assert "Expectation Validation Result" in page.content()
        browser.close()
    assert outside == []
