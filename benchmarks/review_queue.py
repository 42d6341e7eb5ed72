"""The review queue's own step at scale: read the evidence, apply it, mirror ops.review_queue.

Builds a synthetic warehouse with the columns the queue reads (N conversions over 14 days, ~3
receipts each, some failed enrichments and dead letters, 20% high intent), then times
`refresh_in_run` twice: the first run over the whole history (every item opens, old evidence
goes to the digest) and a steady-state run 5 minutes later (what each schedule tick pays on top
of ingestion and the dbt build). Prints one JSON line.

    .venv/bin/python benchmarks/review_queue.py --conversions 1000000
"""

import argparse
import json
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from lead_parity.contract import load_contract
from lead_parity.pipeline.review_queue import refresh_in_run

AS_OF = datetime(2026, 10, 15, 10, tzinfo=UTC)

BUILD = """
create schema marts;
create table marts.fct_conversions as
select
    'c' || i as conversion_id,
    case i % 3 when 0 then 'demo_request' when 1 then 'contact_sales' else 'question' end
        as conversion_type,
    'google' as origin,
    $start + to_seconds(i * (14 * 86400) // $n) as converted_at,
    (hash(i) % 100)::double as intent_score,
    converted_at + interval 1 minute as marketing_reached_at,
    case when i % 3 < 2 then converted_at + interval 2 minute end as crm_reached_at,
    case when i % 3 < 2 and hash(i * 7) % 100 < 95 then converted_at + interval 40 minute end
        as crm_assignment_reached_at,
    case when i % 3 = 2 then converted_at + interval 2 minute end as support_reached_at,
    case when i % 3 = 2 and hash(i * 7) % 100 < 95 then converted_at + interval 40 minute end
        as support_assignment_reached_at
from range($n) as t(i);
create table main.stg_integration__receipts as
select
    'r' || i || '_' || k as receipt_id,
    'c' || i as conversion_id,
    case k when 0 then 'enrichment' else case i % 3 when 2 then 'support' else 'crm' end end
        as hop,
    $start + to_seconds(i * (14 * 86400) // $n + 30 * k) as attempted_at,
    case
        when k = 0 and hash(i * 13) % 100 = 0 then 'failed'
        when k = 2 and hash(i * 17) % 100 = 0 then 'dead_lettered'
        else 'delivered'
    end as outcome
from range($n) as t(i), range(3) as u(k);
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversions", type=int, default=1_000_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="rq-bench-"))
    try:
        warehouse = root / "wh.duckdb"
        con = duckdb.connect(str(warehouse))
        start = (AS_OF - timedelta(days=14)).replace(tzinfo=None)
        for statement in BUILD.split(";"):
            if statement.strip():
                con.execute(statement, {"start": start, "n": args.conversions}
                            if "$" in statement else None)  # fmt: skip
        con.close()
        contract = load_contract()
        started = time.perf_counter()
        first = refresh_in_run(warehouse, root / "history", contract, AS_OF, env={})
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        tick = refresh_in_run(
            warehouse, root / "history", contract, AS_OF + timedelta(minutes=5), env={}
        )
        tick_s = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "stage": "review_queue",
                    "conversions": args.conversions,
                    "first_run_s": round(first_s, 1),
                    "items": first.mirrored,
                    "opened": len(first.applied.opened),
                    "in_digest": first.applied.digested,
                    "tick_s": round(tick_s, 1),
                    "tick_opened": len(tick.applied.opened),
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                }
            )
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
