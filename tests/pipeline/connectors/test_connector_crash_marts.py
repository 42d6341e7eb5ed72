"""A connector killed mid-run and re-run yields the same marts as an uninterrupted run."""

import json
import signal
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from lead_parity.pipeline.build import build_warehouse
from lead_parity.pipeline.connectors import fetch_all
from lead_parity.pipeline.timeparse import parse_as_of

from .conftest import standard_data, vendor_env
from .fake_vendors import BASE_TIME, FakeVendors
from .test_connector_crash import start_connector

AS_OF = "2026-10-05T00:00:00Z"


def add_segment(input_dir: Path) -> None:
    """Conversions of the fake vendors' people, so the marts have something to follow."""
    lines = []
    for i in range(12):
        at = BASE_TIME + timedelta(hours=i, minutes=-1)
        event = "Demo Requested" if i % 3 else "Question Asked"
        lines.append(
            {
                "type": "track",
                "messageId": f"m-{i}",
                "timestamp": at.isoformat(),
                "event": event,
                "anonymousId": f"anon-{i}",
                "properties": {"email": f"person{i}@example.com"},
            }
        )
    (input_dir / "segment").mkdir(parents=True, exist_ok=True)
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    (input_dir / "segment" / "day.jsonl").write_text(text)


def marts(warehouse: Path) -> dict[str, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            n: sorted(con.execute(f'select * from marts."{n}"').fetchall(), key=repr) for n in names
        }


@pytest.mark.slow
def test_marts_after_a_kill_and_rerun_equal_an_uninterrupted_run(
    make_vendors, tmp_path, fast_settings
):
    vendors = make_vendors(**standard_data())
    block = vendors.add_fault("contacts_list", "block", skip=1)
    crashed = tmp_path / "crashed" / "input"
    proc = start_connector(crashed, vendors)
    try:
        assert block.hit.wait(30), "the connector never asked for contacts page 2"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        block.release.set()
    fetch_all(crashed, vendor_env(vendors), settings=fast_settings)

    clean = tmp_path / "clean" / "input"
    with FakeVendors(**standard_data()) as fresh:
        fetch_all(clean, vendor_env(fresh), settings=fast_settings)

    for folder in (crashed, clean):
        add_segment(folder)
        build_warehouse(folder, folder.parent / "warehouse.duckdb", as_of=parse_as_of(AS_OF))
    after_crash = marts(crashed.parent / "warehouse.duckdb")
    assert after_crash == marts(clean.parent / "warehouse.duckdb")
    assert len(after_crash["fct_conversions"]) == 12
    assert after_crash["dim_leads"]
