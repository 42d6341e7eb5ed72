from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from lead_parity.pipeline.http_client import HttpSettings

from .fake_vendors import (
    HUBSPOT_TOKEN,
    ZENDESK_EMAIL,
    ZENDESK_TOKEN,
    FakeVendors,
    make_contacts,
    make_submissions,
    make_tickets,
)

FORM_A = "3f1c2b9e-0000-4a6b-9c1d-aaaaaaaaaaaa"
FORM_B = "7d2e4c1a-1111-4b7c-8d2e-bbbbbbbbbbbb"


@pytest.fixture
def fast_settings() -> HttpSettings:
    """Short waits so retry tests stay quick; the read timeout is set per test where it matters."""
    return HttpSettings(
        connect_timeout_s=2.0,
        read_timeout_s=10.0,
        max_attempts=4,
        backoff_factor_s=0.05,
        backoff_max_s=0.5,
        backoff_jitter_s=0.05,
        retry_after_max_s=5,
        body_attempts=3,
    )


@pytest.fixture
def make_vendors() -> Iterator[Callable[..., FakeVendors]]:
    started: list[FakeVendors] = []

    def factory(**kwargs) -> FakeVendors:
        vendors = FakeVendors(**kwargs).start()
        started.append(vendors)
        return vendors

    yield factory
    for vendors in started:
        vendors.stop()


def standard_data() -> dict:
    """Two forms, 12 contacts, 10 tickets; small page sizes so every stream has several pages."""
    tickets, users, metrics = make_tickets(10)
    return {
        "forms": {FORM_A: make_submissions(7, prefix="a"), FORM_B: make_submissions(4, prefix="b")},
        "contacts": make_contacts(12),
        "tickets": tickets,
        "users": users,
        "metric_sets": metrics,
        "page_sizes": {"forms": 3, "contacts_list": 5, "contacts_search": 5, "tickets": 4},
    }


@pytest.fixture
def vendors(make_vendors) -> FakeVendors:
    return make_vendors(**standard_data())


def vendor_env(vendors: FakeVendors, **overrides: str) -> dict[str, str]:
    env = {
        "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
        "HUBSPOT_BASE_URL": vendors.base_url,
        "HUBSPOT_FORM_GUIDS": f"{FORM_A},{FORM_B}",
        "HUBSPOT_SEARCH_LOOKBACK_SECONDS": "0",
        "ZENDESK_BASE_URL": vendors.base_url,
        "ZENDESK_EMAIL": ZENDESK_EMAIL,
        "ZENDESK_API_TOKEN": ZENDESK_TOKEN,
        "ZENDESK_START_TIME": "2026-09-30T00:00:00Z",
    }
    env.update(overrides)
    return env
