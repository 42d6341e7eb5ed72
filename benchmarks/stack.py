"""What the benchmark scripts share: a simulated stack whose last day arrives after the others.

Imported by the scripts beside it (`python benchmarks/<script>.py` puts this folder on the path).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

SEED = 7


def simulate_stack(out: Path, leads: int, days: int) -> float:
    """`lead-parity simulate` of `leads` persons over `days` days into `out` (seed 7), without
    its truth folder (not input); the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "lead_parity.cli.main", "simulate", "--out", str(out),
         "--leads", str(leads), "--days", str(days), "--seed", str(SEED)],
        check=True, capture_output=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    shutil.rmtree(out / "truth")
    return seconds


def hold_back_last_day(stack: Path, held: Path) -> str:
    """Move the last day's files of every source from `stack` to `held` (same layout); the day.

    The simulator names each file after its day (`2026-01-30.jsonl`, `2026-01-30-p1.json`, ...),
    and segment has one every day, so its newest name is the last day.
    """
    last_day = sorted(p.name for p in (stack / "segment").iterdir())[-1].split(".")[0]
    for path in sorted(stack.rglob(f"{last_day}*")):
        target = held / path.relative_to(stack)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    return last_day


def deliver(held: Path, stack: Path) -> None:
    """Move the held files into `stack`: the moment the last day's files arrive."""
    for path in sorted(held.rglob("*")):
        if path.is_file():
            shutil.move(path, stack / path.relative_to(held))


def size_mb(folder: Path) -> int:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20)
