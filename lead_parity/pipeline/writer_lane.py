"""One writer lane per warehouse: a run holds it from its first step to its end.

DuckDB admits one writer process, and a run's steps hand files to each other (ingestion swaps
`landed/<source>` while dbt of another run could be reading it), so two runs on one warehouse
must not interleave at all. The lane is an flock(2) on a file in the warehouse's folder: the
kernel drops it when its process dies, so a run killed with SIGKILL never leaves it stuck. The
holder writes who it is into the file so a waiting run can name it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = ".writer_lane.lock"
POLL_S = 0.5
# Scratch a killed run can leave in the landed folder: ingestion's work and swap-out folders.
STALE_PATTERNS = (".*.work-*", ".*.old-*")

# Lanes this process holds, by lock path: the CLI takes the lane before it starts the
# in-process Dagster run, whose resource asks for it again.
_HELD: dict[Path, WriterLane] = {}


class LaneBusy(Exception):
    """Another run held the lane for longer than this run was willing to wait."""


class WriterLane:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_FILE
        self._fd: int | None = None
        self._depth = 0
        self._delegate: WriterLane | None = None

    def holder(self) -> dict:
        """Who holds (or last held) the lane; empty when unknown."""
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(
        self, run_id: str, wait_s: float = 0, log: Callable[[str], None] | None = None
    ) -> None:
        """Hold the lane for `run_id`, waiting up to `wait_s` seconds; LaneBusy after that."""
        held = _HELD.get(self.path)
        if held is not None:
            held._depth += 1
            self._delegate = held
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + max(wait_s, 0)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LaneBusy(self._busy_message(wait_s)) from None
                if log and not told:
                    log(f"{self._busy_message(None)}; waiting in line (up to {int(wait_s)} s)")
                    told = True
                time.sleep(POLL_S)
        self._fd = fd
        self._depth = 1
        record = {
            "run_id": run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        _HELD[self.path] = self
        self._clean_stale_scratch()

    def release(self) -> None:
        if self._delegate is not None:
            self._delegate._depth -= 1
            self._delegate = None
            return
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        _HELD.pop(self.path, None)
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> WriterLane:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _busy_message(self, waited: float | None) -> str:
        who = self.holder()
        text = (
            f"warehouse folder {self.data_dir} is being written by run "
            f"{str(who.get('run_id', '?'))[:8]} (pid {who.get('pid', '?')}, "
            f"since {who.get('since', '?')})"
        )
        return text if waited is None else f"{text}; gave up after waiting {int(waited)} s"

    def _clean_stale_scratch(self) -> None:
        # Only the lane's holder can be writing here, so any scratch left is a killed run's.
        landed = self.data_dir / "landed"
        if not landed.is_dir():
            return
        for pattern in STALE_PATTERNS:
            for path in landed.glob(pattern):
                shutil.rmtree(path, ignore_errors=True)
