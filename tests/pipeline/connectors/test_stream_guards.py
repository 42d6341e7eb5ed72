"""Connectors stop on a repeated cursor, a page budget, a time budget and a slow response, each
with one line naming the vendor and the cursor, against the fake APIs on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lead_parity.pipeline.connectors import fetch_all
from lead_parity.pipeline.connectors.landing import load_state

from . import landed
from .conftest import FORM_A, FORM_B, standard_data, vendor_env

ZENDESK_ONLY = {"HUBSPOT_ACCESS_TOKEN": ""}
HUBSPOT_ONLY = {"ZENDESK_BASE_URL": "", "ZENDESK_SUBDOMAIN": ""}


def fetch(tmp_path: Path, vendors, settings, **env) -> dict:
    return fetch_all(tmp_path, vendor_env(vendors, **env), settings=settings)


def assert_one_line(reason: str, *needles: str) -> None:
    assert reason and "\n" not in reason, reason
    for needle in needles:
        assert needle in reason, reason


def test_zendesk_stops_on_an_a_b_a_b_cycle_and_keeps_a_landed_cursor(
    make_vendors, tmp_path, fast_settings
):
    vendors = make_vendors(**standard_data(), cycle={"tickets"})
    stats = fetch(tmp_path, vendors, fast_settings, **ZENDESK_ONLY)["zendesk_tickets"]

    # start -> B -> C -> A(first page again) -> B: the second B is never requested.
    requests = vendors.requests_to("tickets")
    assert len(requests) == 4
    assert stats["status"] == "failed"
    cursor_b = requests[1].query["cursor"][0]
    assert_one_line(stats["reason"], "Zendesk zendesk_tickets", repr(cursor_b), "second time")
    pages = landed.page_files(tmp_path / "zendesk_tickets")
    assert len(pages) == 4
    # The saved cursor points past the last landed page, whose own cursor it is.
    last = json.loads(pages[-1].read_bytes())
    assert load_state(tmp_path, "zendesk_tickets")["after_cursor"] == last["after_cursor"]
    assert set(landed.tickets(tmp_path)) == {t["id"] for t in standard_data()["tickets"]}


def test_hubspot_contacts_list_stops_on_a_repeated_after(make_vendors, tmp_path, fast_settings):
    vendors = make_vendors(**standard_data(), cycle={"contacts_list"})
    stats = fetch(tmp_path, vendors, fast_settings, **HUBSPOT_ONLY)["hubspot_contacts"]

    assert len(vendors.requests_to("contacts_list")) == 4  # 12 contacts, 5 a page, then 1001
    assert stats["status"] == "failed"
    assert_one_line(stats["reason"], "HubSpot hubspot_contacts", "'1006'", "second time")
    assert len(landed.contacts(tmp_path)) == 12
    # The interrupted list resumes at a cursor whose page is on disk, never past one.
    assert load_state(tmp_path, "hubspot_contacts")["list_after"] == "1006"


def test_hubspot_forms_stop_per_form_on_a_repeated_after(make_vendors, tmp_path, fast_settings):
    vendors = make_vendors(**standard_data(), cycle={"forms"})
    stats = fetch(tmp_path, vendors, fast_settings, **HUBSPOT_ONLY)["hubspot_forms"]

    assert stats["status"] == "failed"
    # Both forms loop; each is stopped on its own cursor, and neither moves its mark.
    assert_one_line(stats["reason"], "HubSpot hubspot_forms", FORM_A, FORM_B, "second time")
    by_form = {g: [r for r in vendors.requests_to("forms") if r.path.endswith(g)]
               for g in (FORM_A, FORM_B)}  # fmt: skip
    assert len(by_form[FORM_A]) == 4 and len(by_form[FORM_B]) == 3  # 7 and 4 at 3 a page
    assert load_state(tmp_path, "hubspot_forms__" + FORM_A) == {}
    assert load_state(tmp_path, "hubspot_forms__" + FORM_B) == {}


def test_hubspot_search_stops_when_its_offset_comes_back(make_vendors, tmp_path, fast_settings):
    vendors = make_vendors(**standard_data())
    first = fetch(tmp_path, vendors, fast_settings, **HUBSPOT_ONLY)["hubspot_contacts"]
    assert first["status"] == "complete" and first["mode"] == "full_list"
    vendors.cycle.add("contacts_search")
    vendors.update_contact("1003", company="Moved")

    stats = fetch(tmp_path, vendors, fast_settings, **HUBSPOT_ONLY)["hubspot_contacts"]

    assert stats["status"] == "failed"
    assert_one_line(stats["reason"], "HubSpot hubspot_contacts", "'search'", "second time")
    assert len(vendors.requests_to("contacts_search")) <= 6
    assert landed.contacts(tmp_path)["1003"]["properties"]["company"] == "Moved"


def test_a_page_budget_stops_the_source_and_the_next_run_resumes(
    make_vendors, tmp_path, fast_settings
):
    vendors = make_vendors(**standard_data())
    tight = dataclasses.replace(fast_settings, max_pages=2)
    stats = fetch(tmp_path, vendors, tight, **ZENDESK_ONLY)["zendesk_tickets"]

    assert stats["status"] == "failed"
    assert_one_line(stats["reason"], "Zendesk zendesk_tickets", "page budget of 2 pages")
    assert len(vendors.requests_to("tickets")) == 2
    assert len(landed.tickets(tmp_path)) == 8

    again = fetch(tmp_path, vendors, fast_settings, **ZENDESK_ONLY)["zendesk_tickets"]
    assert again["status"] == "complete"
    assert set(landed.tickets(tmp_path)) == {t["id"] for t in standard_data()["tickets"]}


def test_a_time_budget_stops_a_slow_source(make_vendors, tmp_path, fast_settings):
    data = standard_data()
    vendors = make_vendors(**{**data, "page_sizes": {**data["page_sizes"], "tickets": 1}})
    vendors.add_fault("tickets", "delay", times=10, delay_s=0.4)
    budget = dataclasses.replace(fast_settings, max_seconds=1.0)
    started = time.monotonic()
    stats = fetch(tmp_path, vendors, budget, **ZENDESK_ONLY)["zendesk_tickets"]

    assert time.monotonic() - started < 3.0
    assert stats["status"] == "failed"
    assert_one_line(stats["reason"], "Zendesk zendesk_tickets", "time budget of 1 s")
    assert 2 <= len(vendors.requests_to("tickets")) <= 4  # of 10 pages
    # Every landed page is a whole page, and the cursor points past the last of them.
    pages = landed.page_files(tmp_path / "zendesk_tickets")
    last = json.loads(pages[-1].read_bytes())
    assert load_state(tmp_path, "zendesk_tickets")["after_cursor"] == last["after_cursor"]


@pytest.mark.parametrize(
    ("endpoint", "stream", "env", "vendor_path"),
    [
        ("tickets", "zendesk_tickets", ZENDESK_ONLY,
         "Zendesk GET /api/v2/incremental/tickets/cursor.json"),
        ("contacts_list", "hubspot_contacts", HUBSPOT_ONLY, "HubSpot GET /crm/v3/objects/contacts"),
    ],
)  # fmt: skip
def test_a_dripping_server_cannot_hold_a_request_past_its_deadline(
    make_vendors, tmp_path, fast_settings, endpoint, stream, env, vendor_path
):
    vendors = make_vendors(**standard_data())
    vendors.add_fault(endpoint, "drip", delay_s=0.2)  # a byte every 0.2 s, read timeout 10 s
    settings = dataclasses.replace(fast_settings, request_deadline_s=1.5)
    started = time.monotonic()
    stats = fetch(tmp_path, vendors, settings, **env)[stream]
    elapsed = time.monotonic() - started

    assert elapsed < 4.0, elapsed
    assert stats["status"] == "failed"
    assert_one_line(stats["reason"], vendor_path, "1.5 s request deadline", "bytes received")
    assert len(vendors.requests_to(endpoint)) == 1  # not retried
    assert landed.page_files(tmp_path / stream) == []  # nothing half-received is landed
    assert load_state(tmp_path, stream) == {}


def test_a_server_dripping_its_headers_cannot_hold_a_request_either(
    make_vendors, tmp_path, fast_settings
):
    vendors = make_vendors(**standard_data())
    vendors.add_fault("tickets", "drip_headers", delay_s=0.2)
    settings = dataclasses.replace(fast_settings, request_deadline_s=1.5)
    started = time.monotonic()
    stats = fetch(tmp_path, vendors, settings, **ZENDESK_ONLY)["zendesk_tickets"]

    assert time.monotonic() - started < 4.0
    assert stats["status"] == "failed"
    assert_one_line(stats["reason"], "Zendesk GET", "no response headers within the 1.5 s")
    assert len(vendors.requests_to("tickets")) == 1  # not retried
    assert landed.page_files(tmp_path / "zendesk_tickets") == []


def test_the_deadline_leaves_a_normal_paged_run_alone(make_vendors, tmp_path, fast_settings):
    vendors = make_vendors(**standard_data())
    vendors.add_fault("tickets", "delay", times=2, delay_s=0.3)
    settings = dataclasses.replace(fast_settings, request_deadline_s=1.5)
    stats = fetch(tmp_path, vendors, settings, **ZENDESK_ONLY)["zendesk_tickets"]
    assert stats["status"] == "complete" and stats["pages"] == 3


def test_the_connector_command_reports_a_loop_and_exits_1(make_vendors, tmp_path):
    vendors = make_vendors(**standard_data(), cycle={"tickets"})
    env = {**os.environ, **vendor_env(vendors, **ZENDESK_ONLY), "LEAD_PARITY_HTTP_MAX_PAGES": "50"}
    done = subprocess.run(
        [sys.executable, "-m", "lead_parity.pipeline.connectors", "--input", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    result = json.loads(done.stdout)["zendesk_tickets"]
    assert result["status"] == "failed" and "second time" in result["reason"]
    assert len(vendors.requests_to("tickets")) == 4


@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_a_bad_budget_variable_is_named(make_vendors, tmp_path, value):
    vendors = make_vendors(**standard_data())
    env = vendor_env(vendors, **ZENDESK_ONLY, LEAD_PARITY_HTTP_MAX_PAGES=value)
    stats = fetch_all(tmp_path, env)["zendesk_tickets"]
    assert stats["status"] == "failed"
    assert_one_line(stats["reason"], "LEAD_PARITY_HTTP_MAX_PAGES")
    assert vendors.requests_to("tickets") == []
