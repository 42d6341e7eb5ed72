"""Tokens never show up in logs, errors, stats, landed pages or cursor files."""

from __future__ import annotations

import base64
import json
import traceback

import pytest

from lead_parity.pipeline.connectors import fetch_all
from lead_parity.pipeline.connectors.hubspot import HubSpotConfig, make_client
from lead_parity.pipeline.http_client import AuthError

from .conftest import vendor_env
from .fake_vendors import HUBSPOT_TOKEN, ZENDESK_EMAIL, ZENDESK_TOKEN

SECRETS = (
    HUBSPOT_TOKEN,
    ZENDESK_TOKEN,
    base64.b64encode(f"{ZENDESK_EMAIL}/token:{ZENDESK_TOKEN}".encode()).decode(),
)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_a_run_with_retries_and_bad_pages_logs_no_token(vendors, tmp_path, fast_settings, caplog):
    caplog.set_level("DEBUG")  # urllib3's own debug lines included
    vendors.add_fault("contacts_list", "status", status=429, headers={"Retry-After": "0"})
    vendors.add_fault("forms", "status", status=500)
    vendors.add_fault("tickets", "truncate", skip=2, times=99)
    vendors.add_fault("contacts_list", "delay", skip=1, delay_s=1.5)
    settings = fast_settings.__class__(**{**fast_settings.__dict__, "read_timeout_s": 0.5})

    stats = fetch_all(tmp_path, vendor_env(vendors), settings=settings)

    assert stats["hubspot_contacts"]["retries"] == 2 and stats["hubspot_forms"]["retries"] == 1
    assert stats["zendesk_tickets"]["status"] == "partial"
    assert "retrying GET /crm/v3/objects/contacts after HTTP 429" in caplog.text
    assert_no_secret(caplog.text)
    assert_no_secret(json.dumps(stats))
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert_no_secret(path.read_bytes().decode("utf-8", "replace"))


def test_auth_failure_traceback_and_repr_hold_no_token(vendors, fast_settings, caplog):
    caplog.set_level("DEBUG")
    config = HubSpotConfig.build(access_token=HUBSPOT_TOKEN[::-1], base_url=vendors.base_url)
    assert HUBSPOT_TOKEN[::-1] not in repr(config)
    with make_client(config, fast_settings) as client, pytest.raises(AuthError) as err:
        client.get_page("/crm/v3/objects/contacts", {"limit": 1})
    rendered = "".join(traceback.format_exception(err.value))
    assert HUBSPOT_TOKEN[::-1] not in rendered and HUBSPOT_TOKEN[::-1] not in caplog.text
    assert "HTTP 401" in rendered


def test_error_body_echoing_the_token_is_redacted(vendors, tmp_path, fast_settings, caplog):
    caplog.set_level("DEBUG")
    vendors.add_fault("forms", "status", status=400, echo_auth=True)
    vendors.add_fault("tickets", "status", status=400, echo_auth=True)

    stats = fetch_all(tmp_path, vendor_env(vendors), settings=fast_settings)

    for stream in ("hubspot_forms", "zendesk_tickets"):
        assert stats[stream]["status"] == "failed"
        assert "HTTP 400" in stats[stream]["reason"] and "<redacted>" in stats[stream]["reason"]
    assert_no_secret(json.dumps(stats))
    assert_no_secret(caplog.text)
