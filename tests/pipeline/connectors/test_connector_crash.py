"""Kill the connector process mid-run, run it again: nothing lost, nothing duplicated downstream."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lead_parity.pipeline.connectors import fetch_all
from lead_parity.pipeline.ingest import ingest_source

from . import landed
from .conftest import standard_data, vendor_env
from .fake_vendors import FakeVendors

REPO = Path(__file__).resolve().parents[3]
LANDED_TABLES = {
    "hubspot_forms": ["submissions"],
    "hubspot_contacts": ["contacts"],
    "zendesk_tickets": ["tickets", "users", "metric_sets"],
}


def start_connector(input_dir: Path, vendors: FakeVendors) -> subprocess.Popen:
    env = {**os.environ, **vendor_env(vendors), "LEAD_PARITY_HTTP_READ_TIMEOUT": "30"}
    return subprocess.Popen(
        [sys.executable, "-m", "lead_parity.pipeline.connectors", "--input", str(input_dir)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def landed_rows(input_dir: Path) -> dict[str, list[str]]:
    """Every landed table after file ingestion, without the file/position lineage columns."""
    out = {}
    for source, tables in LANDED_TABLES.items():
        result = ingest_source(source, input_dir, input_dir.parent / f"{input_dir.name}-landed")
        assert result.records_quarantined == 0
        for table in tables:
            path = result.landed_dir / f"{table}.parquet"
            rows = pq.read_table(path).drop_columns(["_file", "_position"]).to_pylist()
            assert rows, f"{source}/{table} landed nothing"
            out[f"{source}/{table}"] = sorted(repr(sorted(r.items())) for r in rows)
    return out


def uninterrupted(tmp_path: Path, settings) -> dict[str, list[str]]:
    with FakeVendors(**standard_data()) as vendors:
        stats = fetch_all(tmp_path / "clean", vendor_env(vendors), settings=settings)
    assert {s["status"] for s in stats.values()} == {"complete"}
    return landed_rows(tmp_path / "clean")


@pytest.mark.parametrize("endpoint", ["forms", "contacts_list", "tickets"])
def test_sigkill_while_page_3_is_in_flight_then_rerun(
    make_vendors, tmp_path, fast_settings, endpoint
):
    vendors = make_vendors(**standard_data())
    block = vendors.add_fault(endpoint, "block", skip=2)
    crashed = tmp_path / "crashed"
    proc = start_connector(crashed, vendors)
    try:
        assert block.hit.wait(30), "the connector never asked for page 3"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        block.release.set()

    folder = {
        "forms": "hubspot_forms",
        "contacts_list": "hubspot_contacts",
        "tickets": "zendesk_tickets",
    }[endpoint]
    assert len(list((crashed / folder).rglob("*.json"))) == 2  # pages 1-2 landed, then killed

    stats = fetch_all(crashed, vendor_env(vendors), settings=fast_settings)

    assert {s["status"] for s in stats.values()} == {"complete"}
    assert landed_rows(crashed) == uninterrupted(tmp_path, fast_settings)
    assert set(landed.contacts(crashed)) == set(landed.contacts(tmp_path / "clean"))
    assert set(landed.tickets(crashed)) == set(landed.tickets(tmp_path / "clean"))


def test_repeated_kills_at_random_moments_lose_nothing(make_vendors, tmp_path, fast_settings):
    vendors = make_vendors(**standard_data())
    for endpoint in ("forms", "contacts_list", "tickets"):
        vendors.add_fault(endpoint, "delay", delay_s=0.05, times=10_000)  # slow every page
    crashed = tmp_path / "crashed"
    rng = random.Random(20261127)
    codes = []
    for _ in range(4):
        seen = len(vendors.requests)
        proc = start_connector(crashed, vendors)
        deadline = time.monotonic() + 30
        while len(vendors.requests) == seen and time.monotonic() < deadline:
            time.sleep(0.01)  # start-up time varies with machine load: count from its 1st call
        time.sleep(rng.uniform(0.0, 0.8))
        proc.send_signal(signal.SIGKILL)
        codes.append(proc.wait(10))
    assert -signal.SIGKILL in codes  # at least one run really died mid-way
    assert list(crashed.rglob("*.json"))  # and some pages had landed before

    stats = fetch_all(crashed, vendor_env(vendors), settings=fast_settings)

    assert {s["status"] for s in stats.values()} == {"complete"}
    assert landed_rows(crashed) == uninterrupted(tmp_path, fast_settings)
    assert not [p for p in crashed.rglob(".*") if p.is_file()]  # no temp files left behind
