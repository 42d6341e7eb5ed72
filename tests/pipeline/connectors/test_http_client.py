"""The shared HTTP client against a real server on 127.0.0.1: retries, waits, broken bodies."""

from __future__ import annotations

import dataclasses
import json
import socket
import time

import pytest

from lead_parity.pipeline.connectors.hubspot import HubSpotConfig, make_client
from lead_parity.pipeline.http_client import AuthError, HttpStatusError, TransportError

from .fake_vendors import HUBSPOT_TOKEN, FakeVendors, make_contacts

LIST = "/crm/v3/objects/contacts"


@pytest.fixture
def server(make_vendors) -> FakeVendors:
    return make_vendors(contacts=make_contacts(3))


def client_for(server: FakeVendors, settings, token: str = HUBSPOT_TOKEN):
    config = HubSpotConfig.build(access_token=token, base_url=server.base_url)
    return make_client(config, settings)


def test_429_with_retry_after_waits_the_asked_seconds_then_succeeds(server, fast_settings):
    server.add_fault("contacts_list", "status", status=429, headers={"Retry-After": "1"})
    with client_for(server, fast_settings) as client:
        started = time.monotonic()
        page = client.get_page(LIST, {"limit": 10})
        elapsed = time.monotonic() - started
    assert page.problem is None and len(page.data["results"]) == 3
    first, second = server.requests_to("contacts_list")
    assert second.at - first.at >= 1.0  # the server saw the retry only after Retry-After
    assert elapsed >= 1.0
    assert client.ledger.retries == 1 and client.ledger.reasons == {"HTTP 429": 1}
    assert client.ledger.waited_s >= 1.0


def test_retry_after_longer_than_the_cap_is_cut_to_the_cap(server, fast_settings):
    server.add_fault("contacts_list", "status", status=503, headers={"Retry-After": "3600"})
    settings = dataclasses.replace(fast_settings, retry_after_max_s=1)
    with client_for(server, settings) as client:
        started = time.monotonic()
        page = client.get_page(LIST, {"limit": 10})
        elapsed = time.monotonic() - started
    assert page.problem is None
    assert 1.0 <= elapsed < 5.0


def test_500_then_success_is_retried_once(server, fast_settings):
    server.add_fault("contacts_list", "status", status=500)
    with client_for(server, fast_settings) as client:
        page = client.get_page(LIST, {"limit": 10})
    assert page.status == 200 and len(page.data["results"]) == 3
    assert len(server.requests_to("contacts_list")) == 2
    assert client.ledger.retries == 1 and client.ledger.reasons == {"HTTP 500": 1}


def test_post_search_is_retried_too(make_vendors, fast_settings):
    server = make_vendors(contacts=make_contacts(3))
    server.add_fault("contacts_search", "status", status=502)
    with client_for(server, fast_settings) as client:
        page = client.post_page(LIST + "/search", {"limit": 10})
    assert len(page.data["results"]) == 3
    assert len(server.requests_to("contacts_search")) == 2


def test_read_timeout_then_success(server, fast_settings):
    server.add_fault("contacts_list", "delay", delay_s=2.0)
    settings = dataclasses.replace(fast_settings, read_timeout_s=0.5)
    with client_for(server, settings) as client:
        started = time.monotonic()
        page = client.get_page(LIST, {"limit": 10})
        elapsed = time.monotonic() - started
    assert len(page.data["results"]) == 3
    assert client.ledger.retries == 1
    assert client.ledger.reasons == {"ReadTimeoutError": 1}
    assert elapsed < 2.0  # gave up on the slow answer instead of waiting it out


def test_persistent_5xx_gives_a_clear_error_after_the_attempt_cap(server, fast_settings):
    server.add_fault("contacts_list", "status", status=503, times=99)
    with client_for(server, fast_settings) as client, pytest.raises(HttpStatusError) as err:
        client.get_page(LIST, {"limit": 10})
    assert err.value.status == 503
    assert "HTTP 503 after 4 attempt(s)" in str(err.value)
    assert len(server.requests_to("contacts_list")) == fast_settings.max_attempts


def test_401_fails_at_once_with_one_request_and_no_secret(server, fast_settings):
    wrong = "pat-na1-WRONG-9999-SECRET"
    with client_for(server, fast_settings, token=wrong) as client, pytest.raises(AuthError) as err:
        client.get_page(LIST, {"limit": 10})
    assert len(server.requests_to("contacts_list")) == 1
    assert client.ledger.retries == 0
    message = str(err.value)
    assert "HTTP 401" in message and "HUBSPOT_ACCESS_TOKEN" in message
    assert wrong not in message and wrong not in repr(err.value)
    assert err.value.__cause__ is None


def test_truncated_body_is_requested_again(server, fast_settings):
    server.add_fault("contacts_list", "truncate", keep_bytes=40)
    with client_for(server, fast_settings) as client:
        page = client.get_page(LIST, {"limit": 10})
    assert page.problem is None and page.tries == 2
    assert len(page.data["results"]) == 3
    assert client.ledger.reasons == {"broken body": 1}


def test_body_broken_on_every_try_comes_back_as_received(server, fast_settings):
    server.add_fault("contacts_list", "truncate", keep_bytes=40, times=99)
    with client_for(server, fast_settings) as client:
        page = client.get_page(LIST, {"limit": 10})
    full = json.dumps(
        {"results": [FakeVendors._shape(c, set()) for c in make_contacts(3)]}
    ).encode()
    assert page.data is None and "cut short after 40 bytes" in page.problem
    assert page.body == full[:40]
    assert len(server.requests_to("contacts_list")) == fast_settings.body_attempts


def test_complete_http_body_that_is_not_json_is_flagged(server, fast_settings):
    server.add_fault("contacts_list", "not_json", keep_bytes=25, times=99)
    with client_for(server, fast_settings) as client:
        page = client.get_page(LIST, {"limit": 10})
    assert page.data is None and "not JSON" in page.problem and len(page.body) == 25


def test_refused_connection_is_a_transport_error_after_retries(fast_settings):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = HubSpotConfig.build(access_token=HUBSPOT_TOKEN, base_url=f"http://127.0.0.1:{port}")
    with make_client(config, fast_settings) as client, pytest.raises(TransportError) as err:
        client.get_page(LIST, {"limit": 10})
    assert client.ledger.retries == fast_settings.max_attempts - 1
    assert "no usable response" in str(err.value) and HUBSPOT_TOKEN not in str(err.value)
