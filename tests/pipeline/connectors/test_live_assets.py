"""The live connector assets run through Dagster against the fake vendors."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from lead_parity.pipeline.connectors.landing import load_state
from orchestration.defs.ingest import live
from orchestration.defs.resources import LeadParityConfig

from . import landed
from .conftest import vendor_env
from .fake_vendors import HUBSPOT_TOKEN, ZENDESK_TOKEN

ASSET_KEYS = [
    "hubspot_contacts_fetched",
    "hubspot_form_submissions_fetched",
    "zendesk_tickets_fetched",
]


@pytest.fixture
def live_env(vendors, tmp_path, monkeypatch) -> dict[str, str]:
    env = vendor_env(
        vendors, LEAD_PARITY_INPUT_DIR=str(tmp_path / "input"), LEAD_PARITY_HTTP_READ_TIMEOUT="10"
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def materialize(env, **kwargs) -> dg.ExecuteInProcessResult:
    # Pages land in the run's input folder, which the `lead_parity` resource names.
    input_dir = Path(env["LEAD_PARITY_INPUT_DIR"])
    run = LeadParityConfig(input_dir=str(input_dir), warehouse=str(input_dir.parent / "w.duckdb"))
    resources = {**live.build_live_resources(env), "lead_parity": run}
    return dg.materialize(live.live_assets, resources=resources, **kwargs)


def test_http_settings_come_from_the_environment(tmp_path):
    resources = live.build_live_resources(
        {
            "LEAD_PARITY_HTTP_READ_TIMEOUT": "7.5",
            "LEAD_PARITY_HTTP_MAX_ATTEMPTS": "3",
            "LEAD_PARITY_HTTP_MAX_PAGES": "40",
            "LEAD_PARITY_HTTP_REQUEST_DEADLINE": "9",
        }
    )
    live_input = resources["live_input"]
    assert (live_input.read_timeout_s, live_input.max_attempts) == (7.5, 3)
    # The budgets reach launched runs too, not only the CLI's defaults.
    assert (live_input.settings().max_pages, live_input.settings().request_deadline_s) == (40, 9)
    assert isinstance(resources["hubspot_api"].access_token, str)  # unset: default, no EnvVar


def test_module_exposes_assets_resources_and_the_daily_schedule():
    from orchestration.definitions import defs

    assert sorted(a.key.to_user_string() for a in live.live_assets) == ASSET_KEYS
    assert set(live.live_resources) == {"live_input", "hubspot_api", "zendesk_api"}
    schedule = defs.resolve_schedule_def("daily_live_schedule")
    assert schedule.cron_schedule == "30 6 * * *" and schedule.job_name == "live_pipeline_job"
    # The live job is the file pipeline with the fetch in front: the same assets, not a copy.
    live_job = defs.resolve_job_def("live_pipeline_job").asset_layer.executable_asset_keys
    file_job = defs.resolve_job_def("lead_parity_job").asset_layer.executable_asset_keys
    assert sorted(k.to_user_string() for k in live_job - file_job) == ASSET_KEYS


def test_materializing_lands_every_stream_and_reports_metadata(live_env, vendors, tmp_path):
    result = materialize(live_env)

    assert result.success
    meta = result.asset_materializations_for_node("hubspot_contacts_fetched")[0].metadata
    assert meta["pages_fetched"].value == 3 and meta["records"].value == 12
    assert meta["retries"].value == 0 and meta["mode"].value == "full_list"
    assert meta["landed_folder"].value == str(tmp_path / "input" / "hubspot_contacts")
    assert meta["cursor"].value == load_state(tmp_path / "input", "hubspot_contacts")["hwm"]
    tickets = result.asset_materializations_for_node("zendesk_tickets_fetched")[0].metadata
    assert tickets["records"].value == 10 and tickets["status"].value == "complete"
    forms = result.asset_materializations_for_node("hubspot_form_submissions_fetched")[0].metadata
    assert forms["pages_fetched"].value == 5
    assert len(landed.contacts(tmp_path / "input")) == 12


def test_retries_are_counted_in_metadata_and_no_token_reaches_the_event_log(live_env, vendors):
    vendors.add_fault("contacts_list", "status", status=503, headers={"Retry-After": "0"})
    vendors.add_fault("tickets", "status", status=500)
    result = materialize(live_env)

    assert result.success
    contacts = result.asset_materializations_for_node("hubspot_contacts_fetched")[0].metadata
    assert contacts["retries"].value == 1
    tickets = result.asset_materializations_for_node("zendesk_tickets_fetched")[0].metadata
    assert tickets["retries"].value == 1
    events = repr(result.all_events) + repr(result.dagster_run.run_config)
    assert HUBSPOT_TOKEN not in events and ZENDESK_TOKEN not in events


def test_unconfigured_streams_are_recorded_as_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAD_PARITY_INPUT_DIR", str(tmp_path))
    env = {"LEAD_PARITY_INPUT_DIR": str(tmp_path)}
    for name in ("HUBSPOT_ACCESS_TOKEN", "ZENDESK_SUBDOMAIN", "ZENDESK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)

    result = materialize(env)

    assert result.success
    for key in ASSET_KEYS:
        meta = result.asset_materializations_for_node(key)[0].metadata
        assert meta["status"].value == "skipped" and meta["pages_fetched"].value == 0
        assert "not set" in meta["reason"].value
    assert list(tmp_path.iterdir()) == []


def test_rejected_token_fails_the_asset_with_a_clear_reason(live_env, vendors, monkeypatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-REVOKED-0000")
    result = materialize(live_env, selection=["hubspot_contacts_fetched"], raise_on_error=False)

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message
    assert "HubSpot rejected the credentials (HTTP 401)" in message
    assert "pat-na1-REVOKED-0000" not in repr(result.all_events)
    assert len(vendors.requests_to("contacts_list")) == 1
