"""From evidence in the input to an open review item: the intra-day queue tick at scale.

    .venv/bin/python benchmarks/queue_latency.py --leads 1000000 --days 30

Simulates N persons over D days and holds back the last day's files. A daily `lead-parity run`
builds the warehouse on the history (as_of: the last day's midnight). Then the last day's files
are delivered into the input folder, which is the moment its evidence becomes visible, and
`review_queue_job` (what `review_queue_schedule` launches every 5 minutes: ingestion of the new
files, the dbt build, the review_queue asset) runs once with as_of at the end of that day, in its
own process, in the Dagster job the schedule launches. The time from delivery to an open item is
at most one cadence (waiting for the next tick) plus that tick's wall time, as long as a tick is
shorter than the cadence (otherwise ticks queue on the writer lane). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from stack import deliver, hold_back_last_day, simulate_stack, size_mb

CADENCE_S = 300  # review_queue_schedule's default cron, */5 * * * *
EVIDENCE = 5
CLI = [sys.executable, "-m", "lead_parity.cli.main"]

TICK = """
import sys, time
from lead_parity.cli.runner import RunParameters
from lead_parity.pipeline.timeparse import parse_as_of
from orchestration.definitions import defs
from orchestration.defs.queue.schedules import QUEUE_JOB_NAME
from orchestration.defs.resources import WRITER_LANE_TAG, lane_key

from pathlib import Path
params = RunParameters(Path(sys.argv[1]), Path(sys.argv[2]), parse_as_of(sys.argv[3]))
started = time.perf_counter()
result = defs.resolve_job_def(QUEUE_JOB_NAME).execute_in_process(
    run_config=params.run_config(), raise_on_error=False,
    tags={WRITER_LANE_TAG: lane_key(params.warehouse)},
)
import resource
who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
peak = max(resource.getrusage(w).ru_maxrss for w in who)
print(time.perf_counter() - started, result.success, peak)
"""


def _timed(argv: list[str]) -> tuple[float, str, int]:
    """Wall seconds, stdout, and the peak RSS (MB) of any process this benchmark ran so far."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])} failed: {done.stderr.strip().splitlines()[-1:]}")
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return seconds, done.stdout, round(peak / 1024)


def _write_evidence(path: Path, day: datetime) -> None:
    """Known evidence on the delivered day, so the figure never rests on the simulator having put
    some there: high-intent demo requests that no system received (each must open a
    `high_intent_unassigned` item 30 minutes after converting)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {
            "type": "track",
            "messageId": f"queue-latency-evidence-{n}",
            "timestamp": f"{day + timedelta(hours=20, minutes=n):%Y-%m-%dT%H:%M:%S}.000Z",
            "anonymousId": f"anon-queue-latency-{n}",
            "event": "Demo Requested",
            "properties": {"email": f"evidence-{n}@queue-latency.example", "intent_score": 95},
        }
        for n in range(EVIDENCE)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _opened_at(history: Path, as_of: datetime) -> list[dict]:
    """The items the tick at `as_of` saw first."""
    from lead_parity.pipeline.review_queue import QueueStore

    items = QueueStore.in_history(history).items(states=("open", "claimed"))
    return [i for i in items if i["first_seen_at"] >= as_of.strftime("%Y-%m-%dT%H:%M:%S")]


def _evidence_found(opened: list[dict]) -> int:
    return sum(
        1
        for i in opened
        if i["kind"] == "high_intent_unassigned" and "queue-latency-evidence" in i["conversion_id"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--keep", help="keep the stack and warehouse in this folder")
    parser.add_argument("--stack", help="a simulated stack to use in place (no simulate step)")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="lp-queue-latency-"))
    try:
        stack, warehouse = root / "input", root / "warehouse" / "lead_parity.duckdb"
        simulate_s = 0.0
        if args.stack:
            stack = Path(args.stack)
        else:
            simulate_s = simulate_stack(stack, args.leads, args.days)
        held = root / "held"
        last_day = hold_back_last_day(stack, held)
        midnight = datetime.fromisoformat(last_day)
        daily_s, _, daily_rss = _timed(
            [*CLI, "run", "--input", str(stack), "--warehouse", str(warehouse),
             "--as-of", f"{midnight:%Y-%m-%dT%H:%M:%S}Z"]
        )  # fmt: skip
        evidence = held / "segment" / f"{last_day}-evidence.jsonl"
        _write_evidence(evidence, midnight)
        deliver(held, stack)
        tick_as_of = midnight + timedelta(hours=23, minutes=55)
        tick_s, out, _ = _timed(
            [sys.executable, "-c", TICK, str(stack), str(warehouse),
             f"{tick_as_of:%Y-%m-%dT%H:%M:%S}Z"]
        )  # fmt: skip
        job_s, success, tick_peak_kb = out.split()[-3:]
        tick_rss = round(int(tick_peak_kb) / 1024)
        if success != "True":
            sys.exit("review_queue_job failed; see the Dagster output above")
        opened = _opened_at(warehouse.parent / "history", tick_as_of)
        kinds = sorted({i["kind"] for i in opened})
        result = {
            "leads": args.leads,
            "days": args.days,
            "input_mb": size_mb(stack),
            "simulate_s": round(simulate_s, 1),
            "daily_run_s": round(daily_s, 1),
            "daily_run_peak_rss_mb": daily_rss,
            "queue_tick_s": round(tick_s, 1),
            "queue_tick_job_s": round(float(job_s), 1),
            "queue_tick_peak_rss_mb": tick_rss,
            "items_opened_by_the_tick": {k: sum(i["kind"] == k for i in opened) for k in kinds},
            "evidence_items_opened": f"{_evidence_found(opened)}/{EVIDENCE}",
            "evidence_to_item_worst_s": round(CADENCE_S + tick_s, 1),
            "evidence_to_item_mean_s": round(CADENCE_S / 2 + tick_s, 1),
            "within_10_minutes": CADENCE_S + tick_s <= 600 and _evidence_found(opened) == EVIDENCE,
        }
        print(json.dumps(result, indent=2))
        if args.stack:
            (stack / evidence.relative_to(held)).unlink()  # the stack as it was given
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
