"""Durable landing of API pages and connector cursors into the input folder (SPEC section 2).

A page is written to a temp file beside its final name, fsynced, then renamed, so a reader never
sees half a page and a crash never leaves one behind under a ``*.json`` name. Page names sort in
fetch order across runs: ``<run stamp>-<page seq>.json``, the run stamp being later than every
name already in the folder. Cursor state is written the same way, only after its page landed.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from lead_parity.pipeline.http_client import RetryLedger

log = logging.getLogger(__name__)

STATE_DIR = "_state"
_STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"
_PAGE_NAME = re.compile(r"^(\d{8}T\d{12}Z)-(\d{6})\.json$")
_TEMP_MARK = ".tmp-"


class ConfigError(ValueError):
    """The environment does not describe a usable connector configuration."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that it is either absent, the old content, or all of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A leading dot and a non-.json suffix keep temp files out of every reader's glob.
    tmp = path.with_name(f"{_temp_prefix(path.name)}{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_prefix(name: str) -> str:
    return f".{name}{_TEMP_MARK}"


def remove_stale_temp_files(folder: Path, name: str = "") -> int:
    """Delete temp files a killed run left behind in ``folder`` (only ``name``'s, when given);
    a temp file never held a landed page or a saved cursor."""
    if not folder.is_dir():
        return 0
    removed = 0
    for tmp in folder.iterdir():
        stale = (
            tmp.name.startswith(_temp_prefix(name))
            if name
            else tmp.name.startswith(".") and _TEMP_MARK in tmp.name
        )
        if stale:
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def run_stamp(folder: Path, started_at: datetime | None = None) -> str:
    """A UTC stamp for this run's page names, strictly later than any page already in ``folder``.

    Two runs in the same microsecond, or a clock that stepped back, must still not overwrite or
    sort before earlier pages, so the stamp is bumped past the newest existing one.
    """
    started = (started_at or datetime.now(UTC)).astimezone(UTC)
    newest = None
    if folder.is_dir():
        stamps = [m.group(1) for p in folder.iterdir() if (m := _PAGE_NAME.match(p.name))]
        newest = max(stamps, default=None)
    if newest is not None:
        newest_at = datetime.strptime(newest, _STAMP_FORMAT).replace(tzinfo=UTC)
        if started <= newest_at:
            started = newest_at + timedelta(microseconds=1)
    return started.strftime(_STAMP_FORMAT)


class PageLander:
    """Lands the pages of one stream run into one folder, numbered in fetch order."""

    def __init__(self, folder: Path, started_at: datetime | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        removed = remove_stale_temp_files(folder)
        if removed:
            log.info("removed %d temp file(s) left by an interrupted run in %s", removed, folder)
        self.stamp = run_stamp(folder, started_at)
        self.seq = 0
        self.landed: list[Path] = []

    def land(self, body: bytes) -> Path:
        self.seq += 1
        path = self.folder / f"{self.stamp}-{self.seq:06d}.json"
        atomic_write_bytes(path, body)
        self.landed.append(path)
        return path


def state_path(input_dir: Path, stream: str) -> Path:
    return Path(input_dir) / STATE_DIR / f"{stream}.json"


def load_state(input_dir: Path, stream: str) -> dict[str, Any]:
    """The saved cursor of ``stream``; empty when none. An unreadable one restarts the stream
    (re-fetched records are de-duplicated downstream, so restarting loses nothing)."""
    path = state_path(input_dir, stream)
    # A run killed while saving this cursor left its temp file; the cursor itself is intact.
    if remove_stale_temp_files(path.parent, path.name):
        log.info("removed the temp file of an interrupted cursor save of %s", stream)
    if not path.exists():
        return {}
    try:
        state = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        log.warning(
            "cursor state %s is unreadable (%s); starting %s from scratch",
            path,
            type(exc).__name__,
            stream,
        )
        return {}
    if not isinstance(state, dict):
        log.warning("cursor state %s is not an object; starting %s from scratch", path, stream)
        return {}
    return state


def save_state(input_dir: Path, stream: str, state: dict[str, Any]) -> None:
    """Persist ``state`` atomically; call only after the pages it points past have landed."""
    payload = {**state, "stream": stream, "saved_at": datetime.now(UTC).isoformat()}
    atomic_write_bytes(
        state_path(input_dir, stream),
        orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS),
    )


@dataclass
class StreamStats:
    """What one connector run did, for logs and Dagster metadata."""

    stream: str
    status: str = "complete"  # complete | partial | failed | skipped
    reason: str | None = None
    pages: int = 0
    records: int = 0
    bad_pages: int = 0
    retries: int = 0
    retry_wait_s: float = 0.0
    mode: str | None = None
    cursor: Any = None
    landed_folder: str | None = None
    landed_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, logger: logging.Logger | logging.LoggerAdapter, message: str) -> None:
        self.warnings.append(message)
        logger.warning("%s: %s", self.stream, message)

    def finish(self, ledger: RetryLedger, before: tuple[int, float]) -> StreamStats:
        """Close the run: the client's retries and waits since `before` (`ledger.mark()`) are
        this stream's, and a run that landed an unusable page without failing is partial."""
        self.retries = ledger.retries - before[0]
        self.retry_wait_s = ledger.waited_s - before[1]
        if self.bad_pages and self.status == "complete":
            self.status = "partial"
        return self

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["retry_wait_s"] = round(self.retry_wait_s, 3)
        return out
