"""One new day on a history: the ingestion of a second run against a fresh one, same process.

    .venv/bin/python benchmarks/incremental_ingest.py --leads 100000 --days 30 [--baseline PY]

Simulates N persons over D days, holds back the last day's files, ingests (the first run, every
file parsed and cached), adds the last day and ingests again (the daily run: only the new files
parsed); then a fresh ingest of everything into an empty landed folder, which is what every
daily run cost before file versions were kept. `--baseline PY` also times that fresh ingest with
another interpreter (e.g. main's venv) to measure what hashing and caching add to a first run.
Prints one JSON object with seconds and peak RSS per step (each step in its own process).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from stack import deliver, hold_back_last_day, simulate_stack, size_mb

STEP = """
import resource, sys, time
from lead_parity.pipeline.ingest import ingest_all
start = time.perf_counter()
results = ingest_all(sys.argv[1], sys.argv[2])
print(time.perf_counter() - start)
print(sum(getattr(r, "files_parsed", r.files) for r in results.values()))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _step(python: str, input_dir: Path, landed: Path) -> dict:
    done = subprocess.run(
        [python, "-c", STEP, str(input_dir), str(landed)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds, parsed, peak_kb = done.stdout.split()[-3:]
    return {"seconds": round(float(seconds), 2), "files_parsed": int(parsed),
            "peak_rss_mb": round(int(peak_kb) / 1024)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--baseline", help="interpreter of the code to compare a fresh run with")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lp-incremental-"))
    try:
        stack = root / "input"
        simulate_s = simulate_stack(stack, args.leads, args.days)
        hold_back_last_day(stack, root / "held")
        history = _step(sys.executable, stack, root / "landed")
        deliver(root / "held", stack)
        daily = _step(sys.executable, stack, root / "landed")
        fresh = _step(sys.executable, stack, root / "fresh")
        result = {
            "leads": args.leads,
            "days": args.days,
            "input_mb": size_mb(stack),
            "simulate_s": round(simulate_s, 1),
            "first_run_all_but_last_day": history,
            "daily_run_last_day_added": daily,
            "fresh_run_all_days": fresh,
            "daily_over_fresh": round(daily["seconds"] / fresh["seconds"], 3),
        }
        if args.baseline:
            result["fresh_run_baseline"] = _step(args.baseline, stack, root / "baseline")
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
