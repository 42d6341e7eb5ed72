"""Zendesk incremental export against the fake API: cursor paging, resume, faults, auth."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from lead_parity.pipeline.connectors import fetch_all
from lead_parity.pipeline.connectors.landing import ConfigError, load_state
from lead_parity.pipeline.connectors.zendesk import ZendeskConfig, parse_start_time

from . import landed
from .conftest import vendor_env
from .fake_vendors import ZENDESK_EMAIL, ZENDESK_TOKEN, make_tickets

ZENDESK_ONLY = {"HUBSPOT_ACCESS_TOKEN": ""}
START = "2026-09-30T00:00:00Z"


def run(input_dir: Path, vendors, settings, **env) -> dict:
    stats = fetch_all(input_dir, vendor_env(vendors, **{**ZENDESK_ONLY, **env}), settings=settings)
    return stats["zendesk_tickets"]


def test_export_pages_land_with_sideloads_until_end_of_stream(vendors, tmp_path, fast_settings):
    stats = run(tmp_path, vendors, fast_settings)

    assert stats["status"] == "complete" and stats["mode"] == "start_time"
    assert stats["pages"] == 3 and stats["records"] == 10  # 4 + 4 + 2
    first, *rest = vendors.requests_to("tickets")
    assert first.query == {
        "start_time": [str(parse_start_time(START))],
        "include": ["users,metric_sets"],
    }
    assert all(set(r.query) == {"cursor", "include"} for r in rest)
    assert set(landed.tickets(tmp_path)) == {t["id"] for t in make_tickets(10)[0]}
    pages = [json.loads(p.read_bytes()) for p in landed.page_files(tmp_path / "zendesk_tickets")]
    assert [p["end_of_stream"] for p in pages] == [False, False, True]
    assert all(p["users"] and p["metric_sets"] for p in pages)
    assert load_state(tmp_path, "zendesk_tickets")["after_cursor"] == pages[-1]["after_cursor"]


def test_next_run_resumes_from_the_saved_cursor(vendors, tmp_path, fast_settings):
    run(tmp_path, vendors, fast_settings)
    saved = load_state(tmp_path, "zendesk_tickets")["after_cursor"]
    solved = vendors.update_ticket(9_000_000_000_003, status="solved", assignee_id=7_777)
    before = len(vendors.requests_to("tickets"))

    stats = run(tmp_path, vendors, fast_settings)

    requests = vendors.requests_to("tickets")[before:]
    assert [r.query["cursor"] for r in requests] == [[saved]]
    assert stats["mode"] == "cursor" and stats["records"] == 1
    merged = landed.tickets(tmp_path)
    assert merged[9_000_000_000_003]["status"] == "solved"  # newest version wins
    assert merged[9_000_000_000_003]["updated_at"] == solved["updated_at"]
    # the ticket now sits on two pages: a duplicate across pages, newest kept
    assert landed.record_count(tmp_path / "zendesk_tickets", "tickets") == 11
    assert len(merged) == 10


def test_duplicate_ticket_versions_across_pages_collapse_downstream(
    make_vendors, tmp_path, fast_settings
):
    from lead_parity.pipeline.ingest import ingest_source

    tickets, users, metrics = make_tickets(6)
    vendors = make_vendors(
        tickets=tickets, users=users, metric_sets=metrics, page_sizes={"tickets": 2}
    )
    for tid in (9_000_000_000_000, 9_000_000_000_001):
        vendors.update_ticket(tid, status="pending")
    vendors.update_ticket(9_000_000_000_000, status="solved")
    stats = run(tmp_path, vendors, fast_settings)
    assert stats["records"] == 9 and stats["pages"] == 5

    result = ingest_source("zendesk_tickets", tmp_path, tmp_path / "landed")

    assert result.records_quarantined == 0 and result.duplicates >= 3
    assert result.loaded_by_entity["tickets"] == 6
    merged = landed.tickets(tmp_path)
    assert merged[9_000_000_000_000]["status"] == "solved"
    assert merged[9_000_000_000_001]["status"] == "pending"


def test_429_with_retry_after_is_waited_out(vendors, tmp_path, fast_settings):
    vendors.add_fault("tickets", "status", skip=1, status=429, headers={"Retry-After": "1"})
    started = time.monotonic()
    stats = run(tmp_path, vendors, fast_settings)
    assert time.monotonic() - started >= 1.0
    assert stats["status"] == "complete" and stats["retries"] == 1
    assert stats["retry_wait_s"] >= 1.0
    second, third = vendors.requests_to("tickets")[1:3]
    assert second.query == third.query and third.at - second.at >= 1.0


def test_unparsable_page_stops_the_stream_and_keeps_the_cursor(vendors, tmp_path, fast_settings):
    vendors.add_fault(
        "tickets", "truncate", skip=1, times=fast_settings.body_attempts, keep_bytes=200
    )
    stats = run(tmp_path, vendors, fast_settings)

    assert stats["status"] == "partial" and stats["pages"] == 2 and stats["bad_pages"] == 1
    assert any("cursor stays before this page" in w for w in stats["warnings"])
    good, bad = landed.parsed_pages(tmp_path / "zendesk_tickets")
    assert len(good) == 1 and len(bad) == 1 and len(bad[0].read_bytes()) == 200
    assert load_state(tmp_path, "zendesk_tickets")["after_cursor"] == good[0][1]["after_cursor"]

    again = run(tmp_path, vendors, fast_settings)  # the fault is used up: the page is served
    assert again["status"] == "complete" and again["pages"] == 2
    assert set(landed.tickets(tmp_path)) == {t["id"] for t in make_tickets(10)[0]}


def test_401_is_one_request_and_a_clear_error_without_the_token(
    vendors, tmp_path, fast_settings, caplog
):
    wrong = "zd-WRONG-token-4242"
    caplog.set_level("DEBUG")
    stats = run(tmp_path, vendors, fast_settings, ZENDESK_API_TOKEN=wrong)

    assert stats["status"] == "failed"
    assert "Zendesk rejected the credentials (HTTP 401)" in stats["reason"]
    assert "ZENDESK_API_TOKEN" in stats["reason"]
    assert len(vendors.requests_to("tickets")) == 1
    basic = base64.b64encode(f"{ZENDESK_EMAIL}/token:{wrong}".encode()).decode()
    for text in (stats["reason"], caplog.text, json.dumps(stats)):
        assert wrong not in text and basic not in text
    assert load_state(tmp_path, "zendesk_tickets") == {}


def test_start_time_accepts_epoch_seconds_and_iso():
    assert parse_start_time("1790812800") == 1790812800
    assert parse_start_time("2026-10-01T00:00:00Z") == 1790812800
    assert parse_start_time("2026-10-01T02:00:00+02:00") == 1790812800
    assert parse_start_time("") == 0
    with pytest.raises(ConfigError, match="neither epoch seconds nor an ISO-8601"):
        parse_start_time("yesterday")


def test_subdomain_builds_the_zendesk_url_and_repr_hides_the_token():
    config, reason = ZendeskConfig.from_env(
        {
            "ZENDESK_SUBDOMAIN": "acme",
            "ZENDESK_EMAIL": ZENDESK_EMAIL,
            "ZENDESK_API_TOKEN": ZENDESK_TOKEN,
        }
    )
    assert reason == "" and config.base_url == "https://acme.zendesk.com"
    assert ZENDESK_TOKEN not in repr(config)
    missing, why = ZendeskConfig.from_env({"ZENDESK_SUBDOMAIN": "acme"})
    assert missing is None and why == "ZENDESK_EMAIL and ZENDESK_API_TOKEN not set"
