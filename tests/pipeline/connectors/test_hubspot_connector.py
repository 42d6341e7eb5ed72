"""HubSpot connector against the fake API: paging, incremental search, fallbacks, bad pages."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from pathlib import Path

import pyarrow.parquet as pq

from lead_parity.pipeline.connectors import fetch_all, fetch_stream
from lead_parity.pipeline.connectors.hubspot import CONTACT_PROPERTIES, HubSpotConfig
from lead_parity.pipeline.connectors.landing import load_state
from lead_parity.pipeline.ingest import ingest_source

from . import landed
from .conftest import FORM_A, FORM_B, standard_data, vendor_env
from .fake_vendors import HUBSPOT_TOKEN, make_contacts, make_submissions, to_ms

HUBSPOT_ONLY = {"ZENDESK_BASE_URL": ""}


def run(input_dir: Path, vendors, settings, **env):
    return fetch_all(input_dir, vendor_env(vendors, **{**HUBSPOT_ONLY, **env}), settings=settings)


def test_first_run_lands_every_page_of_forms_and_contacts(vendors, tmp_path, fast_settings):
    stats = run(tmp_path, vendors, fast_settings)

    assert stats["hubspot_forms"]["status"] == "complete"
    assert stats["hubspot_forms"]["pages"] == 3 + 2  # 7 submissions / 3 per page, then 4 / 3
    assert stats["hubspot_contacts"] == stats["hubspot_contacts"] | {
        "status": "complete",
        "mode": "full_list",
        "pages": 3,
        "records": 12,
    }
    assert stats["zendesk_tickets"]["status"] == "skipped"
    assert set(landed.contacts(tmp_path)) == {c["id"] for c in make_contacts(12)}
    assert len(landed.submissions(tmp_path)) == 11
    # the request names every property of SPEC section 2, and they all come back
    for request in vendors.requests_to("contacts_list"):
        assert set(request.query["properties"][0].split(",")) == set(CONTACT_PROPERTIES)
    assert all(
        set(CONTACT_PROPERTIES) <= set(c["properties"]) for c in landed.contacts(tmp_path).values()
    )
    for request in vendors.requests_to("forms"):
        assert request.query["limit"] == ["50"]


def test_page_files_sort_in_fetch_order_across_runs(vendors, tmp_path, fast_settings):
    run(tmp_path, vendors, fast_settings)
    vendors.update_contact("1005", company="Later Inc")
    run(tmp_path, vendors, fast_settings)
    names = [p.name for p in landed.page_files(tmp_path / "hubspot_contacts")]
    assert len(names) == 4 and names == sorted(names)
    last = json.loads((tmp_path / "hubspot_contacts" / names[-1]).read_bytes())
    assert "1005" in {c["id"] for c in last["results"]}  # the newest version sorts last
    assert landed.contacts(tmp_path)["1005"]["properties"]["company"] == "Later Inc"
    assert not list((tmp_path / "hubspot_contacts").glob(".*"))  # no temp files left


def test_second_run_searches_from_the_saved_high_water_mark(vendors, tmp_path, fast_settings):
    run(tmp_path, vendors, fast_settings)
    saved = load_state(tmp_path, "hubspot_contacts")["hwm_ms"]
    files_before = set(landed.page_files(tmp_path / "hubspot_contacts"))
    vendors.update_contact("1002", company="Changed Co")
    vendors.update_contact("1009", hubspot_owner_id="777")
    vendors.add_contact(make_contacts(1, first_id=2001)[0])
    vendors.update_contact("2001")  # created now

    stats = run(tmp_path, vendors, fast_settings)["hubspot_contacts"]

    assert stats["mode"] == "search"
    search = vendors.requests_to("contacts_search")
    assert len(search) == 1 and len(vendors.requests_to("contacts_list")) == 3  # list only once
    body = search[0].body
    assert body["filterGroups"] == [
        {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(saved)}]}
    ]
    assert body["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    assert body["properties"] == list(CONTACT_PROPERTIES)
    new_files = set(landed.page_files(tmp_path / "hubspot_contacts")) - files_before
    fetched = {c["id"] for f in new_files for c in json.loads(f.read_bytes())["results"]}
    expected = {
        cid
        for cid, c in vendors.contacts.items()
        if to_ms(c["properties"]["lastmodifieddate"]) >= saved
    }
    assert fetched == expected and {"1002", "1009", "2001"} <= fetched
    assert len(fetched) < 12 // 2  # only what changed, not the whole list again
    assert landed.contacts(tmp_path)["1009"]["properties"]["hubspot_owner_id"] == "777"
    assert load_state(tmp_path, "hubspot_contacts")["hwm_ms"] > saved


def test_second_run_reads_forms_only_down_to_the_last_seen_submission(
    vendors, tmp_path, fast_settings
):
    run(tmp_path, vendors, fast_settings)
    newest = make_submissions(8, prefix="a")[-1]  # later than every submission served so far
    vendors.add_submission(FORM_A, newest)
    before = len(vendors.requests_to("forms"))

    stats = run(tmp_path, vendors, fast_settings)["hubspot_forms"]

    assert len(vendors.requests_to("forms")) - before == 2  # one page per form
    assert stats["cursor"][FORM_A] == newest["submittedAt"]
    assert (FORM_A, newest["conversionId"]) in landed.submissions(tmp_path)
    assert len(landed.submissions(tmp_path)) == 12


def test_search_unavailable_falls_back_to_the_full_list(vendors, tmp_path, fast_settings):
    run(tmp_path, vendors, fast_settings)
    vendors.update_contact("1004", company="Moved Co")
    vendors.add_fault("contacts_search", "status", status=404, times=1)

    stats = run(tmp_path, vendors, fast_settings)["hubspot_contacts"]

    assert stats["status"] == "complete" and stats["mode"] == "search+full_list"
    assert any("search unavailable" in w for w in stats["warnings"])
    assert len(vendors.requests_to("contacts_list")) == 6  # the list ran twice
    assert landed.contacts(tmp_path)["1004"]["properties"]["company"] == "Moved Co"


def test_search_pages_from_the_newest_mark_and_duplicates_collapse_downstream(
    vendors, tmp_path, fast_settings
):
    run(tmp_path, vendors, fast_settings)
    changed = [str(1001 + i) for i in range(9)]
    for cid in changed:
        vendors.update_contact(cid, lead_id=f"new-{cid}")

    stats = run(tmp_path, vendors, fast_settings)["hubspot_contacts"]

    assert stats["status"] == "complete" and stats["mode"] == "search"
    bodies = [r.body for r in vendors.requests_to("contacts_search")]
    assert all("after" not in b for b in bodies)  # keyset: no offsets into a moving result set
    marks = [int(b["filterGroups"][0]["filters"][0]["value"]) for b in bodies]
    assert len(marks) == 3 and marks == sorted(set(marks))  # each query starts further on
    merged = landed.contacts(tmp_path)
    assert all(merged[c]["properties"]["lead_id"] == f"new-{c}" for c in changed)
    # each new query re-reads the previous page's newest contact: duplicates across pages
    assert stats["records"] == 12
    result = ingest_source("hubspot_contacts", tmp_path, tmp_path / "landed")
    table = pq.read_table(tmp_path / "landed" / "hubspot_contacts" / "contacts.parquet")
    assert sorted(table.column("contact_id").to_pylist()) == sorted(merged)
    assert result.duplicates > 0 and result.records_quarantined == 0
    newest = {r["contact_id"]: r["lead_id"] for r in table.to_pylist()}
    assert all(newest[c] == f"new-{c}" for c in changed)


def test_contact_edited_while_search_pages_is_not_skipped(vendors, tmp_path, fast_settings):
    run(tmp_path, vendors, fast_settings)
    for i in range(12):
        vendors.update_contact(str(1001 + i), company=f"Round 2 Co {i}")
    held = vendors.add_fault("contacts_search", "block", skip=1)  # hold the 2nd search request
    worker = threading.Thread(target=run, args=(tmp_path, vendors, fast_settings))
    worker.start()
    assert held.hit.wait(10)
    # the first page is landed; a contact on it is edited and moves to the end of the results
    vendors.update_contact("1002", company="Edited Mid-Run")
    held.release.set()
    worker.join(30)

    merged = landed.contacts(tmp_path)
    assert all(
        merged[str(1001 + i)]["properties"]["company"].startswith("Round 2")
        for i in range(12)
        if i != 1
    )
    assert merged["1002"]["properties"]["company"] == "Edited Mid-Run"


def test_contacts_sharing_one_timestamp_past_the_window_fall_back_to_the_list(
    make_vendors, tmp_path, fast_settings
):
    vendors = make_vendors(**standard_data())
    run(tmp_path, vendors, fast_settings)
    same = "2026-11-01T00:00:00.000Z"  # a bulk import: one lastmodifieddate for everyone
    for contact in vendors.contacts.values():
        contact["properties"]["lastmodifieddate"] = same
        contact["updatedAt"] = same
    config = HubSpotConfig.build(access_token=HUBSPOT_TOKEN, base_url=vendors.base_url)

    stats = fetch_stream(
        "hubspot_contacts",
        dataclasses.replace(config, search_window=8),
        tmp_path,
        settings=fast_settings,
    )

    assert stats.status == "complete" and stats.mode == "search+full_list"
    assert any("share one lastmodifieddate" in w for w in stats.warnings)
    assert len(vendors.requests_to("contacts_list")) == 6
    assert all(c["updatedAt"] == same for c in landed.contacts(tmp_path).values())


def test_truncated_page_is_landed_quarantined_and_the_run_goes_on(vendors, tmp_path, fast_settings):
    # page 2 of the list arrives cut short on every try
    vendors.add_fault("contacts_list", "truncate", skip=1, times=99, keep_bytes=120)
    stats = fetch_all(tmp_path, vendor_env(vendors), settings=fast_settings)

    contacts = stats["hubspot_contacts"]
    assert contacts["status"] == "partial" and contacts["bad_pages"] == 1
    assert contacts["pages"] == 2 and any("unusable" in w for w in contacts["warnings"])
    bad_file = Path(contacts["landed_files"][1])
    assert len(bad_file.read_bytes()) == 120 and bad_file.read_bytes().startswith(b'{"results"')
    # the cursor did not move past the bad page: it still points at page 2
    page1 = json.loads(Path(contacts["landed_files"][0]).read_bytes())
    state = load_state(tmp_path, "hubspot_contacts")
    assert state["list_after"] == page1["paging"]["next"]["after"] and "hwm_ms" not in state
    # the other streams ran to the end
    assert stats["hubspot_forms"]["status"] == "complete"
    assert stats["zendesk_tickets"]["status"] == "complete"

    # the vendor recovers: the next run resumes at page 2 and finishes the list
    vendors.faults.clear()
    again = run(tmp_path, vendors, fast_settings)["hubspot_contacts"]
    assert again["status"] == "complete" and again["pages"] == 2
    assert set(landed.contacts(tmp_path)) == {c["id"] for c in make_contacts(12)}
    assert load_state(tmp_path, "hubspot_contacts").get("hwm_ms") is not None


def test_bad_form_page_stops_that_form_only(vendors, tmp_path, fast_settings):
    vendors.add_fault("forms", "not_json", times=3, keep_bytes=10)  # first form, first page
    stats = run(tmp_path, vendors, fast_settings)["hubspot_forms"]
    assert stats["status"] == "partial" and stats["bad_pages"] == 1
    assert load_state(tmp_path, f"hubspot_forms__{FORM_A}") == {}  # mark not moved
    assert load_state(tmp_path, f"hubspot_forms__{FORM_B}")["submitted_at_max_ms"] > 0
    assert len(landed.page_files(tmp_path / "hubspot_forms" / FORM_A)) == 1
    assert {k[0] for k in landed.submissions(tmp_path)} == {FORM_B}


def test_unconfigured_connectors_are_skipped_with_a_reason(tmp_path, fast_settings):
    stats = fetch_all(tmp_path, {}, settings=fast_settings)
    assert {s: v["status"] for s, v in stats.items()} == {
        "hubspot_forms": "skipped",
        "hubspot_contacts": "skipped",
        "zendesk_tickets": "skipped",
    }
    assert stats["hubspot_contacts"]["reason"] == "HUBSPOT_ACCESS_TOKEN is not set"
    assert "ZENDESK_SUBDOMAIN" in stats["zendesk_tickets"]["reason"]
    assert list(tmp_path.iterdir()) == []  # nothing written for skipped streams

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN, "HUBSPOT_BASE_URL": f"http://127.0.0.1:{port}"}
    only_token = fetch_all(tmp_path, env, settings=fast_settings)
    assert only_token["hubspot_forms"]["reason"] == "HUBSPOT_FORM_GUIDS is not set"
    assert only_token["hubspot_contacts"]["status"] == "failed"
    assert "no usable response" in only_token["hubspot_contacts"]["reason"]


def test_unknown_form_fails_the_stream_but_the_other_forms_are_read(
    vendors, tmp_path, fast_settings
):
    missing = "0000dead-0000-4000-8000-000000000000"
    stats = run(
        tmp_path, vendors, fast_settings, HUBSPOT_FORM_GUIDS=f"{missing},{FORM_A},{FORM_B}"
    )["hubspot_forms"]
    assert stats["status"] == "failed"
    assert f"/forms/{missing}: HTTP 404" in stats["reason"]
    assert {k[0] for k in landed.submissions(tmp_path)} == {FORM_A, FORM_B}
    assert stats["cursor"][missing] is None and stats["cursor"][FORM_A] > 0


def test_rate_limited_search_fails_instead_of_listing_everything(vendors, tmp_path, fast_settings):
    run(tmp_path, vendors, fast_settings)
    vendors.add_fault(
        "contacts_search", "status", status=429, times=99, headers={"Retry-After": "0"}
    )
    stats = run(tmp_path, vendors, fast_settings)["hubspot_contacts"]
    assert stats["status"] == "failed" and "HTTP 429" in stats["reason"]
    assert stats["retries"] == fast_settings.max_attempts - 1
    assert len(vendors.requests_to("contacts_list")) == 3  # only the first run's list


def test_invalid_form_guid_is_a_configuration_failure(vendors, tmp_path, fast_settings):
    stats = run(tmp_path, vendors, fast_settings, HUBSPOT_FORM_GUIDS="../../etc")
    assert stats["hubspot_forms"]["status"] == "failed"
    assert "not form guids" in stats["hubspot_forms"]["reason"]
    assert not (tmp_path / "etc").exists()


def test_truncated_page_is_quarantined_by_the_file_ingestion(vendors, tmp_path, fast_settings):
    vendors.add_fault("contacts_list", "truncate", skip=1, times=99, keep_bytes=120)
    stats = run(tmp_path, vendors, fast_settings)["hubspot_contacts"]
    bad_file = Path(stats["landed_files"][1])

    result = ingest_source("hubspot_contacts", tmp_path, tmp_path / "landed")

    quarantine = pq.read_table(tmp_path / "landed" / "hubspot_contacts" / "quarantine.parquet")
    assert result.records_quarantined == 1
    assert quarantine.column("file").to_pylist() == [f"hubspot_contacts/{bad_file.name}"]
    assert result.records_loaded == 5
