"""Remediation throughput: contacts a minute into the fake HubSpot at its rate limit.

    .venv/bin/python benchmarks/remediation.py [--contacts 20000] [--limit 100] [--window 10]

Plans and approves `--contacts` HubSpot upserts, then sends them through the real sender
(batches of 100, Retry-After honoured) to the test suite's fake (tests/pipeline/remediation/
fake_writes.py) limited to `--limit` requests per `--window` seconds. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lead_parity.contract import load_contract  # noqa: E402
from lead_parity.contract.model import RemediationRule  # noqa: E402
from lead_parity.pipeline.remediation import Proposal, RemediationStore, send_batch  # noqa: E402
from tests.pipeline.remediation.fake_writes import FakeWrites  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()
    now = datetime.now(UTC)
    contract = load_contract()
    contract = replace(contract, remediation=RemediationRule(100, args.contacts))
    with tempfile.TemporaryDirectory() as tmp:
        store = RemediationStore.in_history(Path(tmp))
        proposals = [
            Proposal(f"c{i}", f"L{i}", "crm", "no_trace", "demo_request", "hubspot_upsert",
                     "hubspot", f"lead{i}@example.com")
            for i in range(args.contacts)
        ]  # fmt: skip
        [batch] = store.record_plan(
            proposals, by="bench", at=now, snapshot_as_of=None, max_per_batch=args.contacts
        )
        store.approve(batch, "bench", at=now, max_per_day=args.contacts)
        with FakeWrites(limit=args.limit, window_s=args.window) as fake:
            started = time.monotonic()
            report = send_batch(Path(tmp), contract, batch, env=fake.env())
            elapsed = time.monotonic() - started
            limited = sum(1 for r in fake.log if r.status == 429)
            created = len(fake.contacts)
    print(
        json.dumps(
            {
                "contacts": args.contacts,
                "sent": report.sent,
                "created": created,
                "requests": report.writes + report.reads,
                "answered_429": limited,
                "seconds": round(elapsed, 1),
                "contacts_per_minute": round(args.contacts / elapsed * 60),
                "limit": f"{args.limit} requests per {args.window:g} s",
            }
        )
    )


if __name__ == "__main__":
    main()
