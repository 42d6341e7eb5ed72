"""The connectors record every HTTP call (vendor, endpoint, status, retries, 429s, waits) per
run, and ingestion lands them as the table the vendor rate-limit mart reads."""

from __future__ import annotations

import pyarrow.parquet as pq

from lead_parity.pipeline.connectors import fetch_all
from lead_parity.pipeline.connectors.call_log import calls_folder, land_call_log

from .conftest import vendor_env

HUBSPOT_ONLY = {"ZENDESK_BASE_URL": ""}


def _landed_rows(input_dir, landed_dir) -> list[dict]:
    land_call_log(input_dir, landed_dir)
    return pq.read_table(landed_dir / "_connector_calls" / "http_calls.parquet").to_pylist()


def test_a_429_storm_is_recorded_per_call_and_landed(vendors, tmp_path, fast_settings):
    # Two 429s (Retry-After 0) before the first contacts page, then a clean run.
    vendors.add_fault("contacts_list", "status", status=429, times=2, headers={"Retry-After": "0"})
    input_dir, landed_dir = tmp_path / "input", tmp_path / "landed"
    stats = fetch_all(input_dir, vendor_env(vendors, **HUBSPOT_ONLY), settings=fast_settings)
    assert stats["hubspot_contacts"]["status"] == "complete"

    logs = sorted(p.name for p in calls_folder(input_dir).glob("*.jsonl"))
    assert [name.split("-")[0] for name in logs] == ["hubspot_contacts", "hubspot_forms"]
    rows = _landed_rows(input_dir, landed_dir)
    contacts = [r for r in rows if r["stream"] == "hubspot_contacts"]
    assert len(contacts) == len(vendors.requests_to("contacts_list")) - 2  # retries folded in
    first = min(contacts, key=lambda r: r["requested_at"])
    assert first | {"requested_at": None, "waited_s": None, "log_file": None} == {
        "requested_at": None,
        "vendor": "HubSpot",
        "stream": "hubspot_contacts",
        "method": "GET",
        "endpoint": "/crm/v3/objects/contacts",
        "status": 200,
        "retries": 2,
        "rate_limited": 2,
        "waited_s": None,
        "log_file": None,
    }
    assert sum(r["rate_limited"] for r in rows) == 2
    assert all(r["vendor"] == "HubSpot" and r["status"] == 200 for r in rows)
    # The table is rebuilt from the logs: landing again duplicates nothing.
    assert len(_landed_rows(input_dir, landed_dir)) == len(rows)


def test_a_request_rate_limited_for_good_counts_its_final_429(vendors, tmp_path, fast_settings):
    vendors.add_fault("contacts_list", "status", status=429, times=99, headers={"Retry-After": "0"})
    input_dir, landed_dir = tmp_path / "input", tmp_path / "landed"
    stats = fetch_all(input_dir, vendor_env(vendors, **HUBSPOT_ONLY), settings=fast_settings)
    assert stats["hubspot_contacts"]["status"] == "failed"
    (failed,) = [
        r for r in _landed_rows(input_dir, landed_dir) if r["stream"] == "hubspot_contacts"
    ]
    assert failed["status"] == 429
    assert failed["retries"] == fast_settings.max_attempts - 1
    assert failed["rate_limited"] == fast_settings.max_attempts  # every attempt was a 429


def test_file_mode_lands_an_empty_call_table(tmp_path):
    assert _landed_rows(tmp_path / "input", tmp_path / "landed") == []


def test_rejected_credentials_are_recorded_with_their_status(vendors, tmp_path, fast_settings):
    input_dir, landed_dir = tmp_path / "input", tmp_path / "landed"
    env = vendor_env(vendors, **HUBSPOT_ONLY, HUBSPOT_ACCESS_TOKEN="pat-wrong")
    stats = fetch_all(input_dir, env, settings=fast_settings)
    assert stats["hubspot_contacts"]["status"] == "failed"
    rows = _landed_rows(input_dir, landed_dir)
    assert rows and all(r["status"] == 401 and r["retries"] == 0 for r in rows)
    assert "pat-wrong" not in repr(rows)  # no secret in the call log
