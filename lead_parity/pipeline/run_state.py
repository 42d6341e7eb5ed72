"""The warehouse's latest as_of (SPEC section 9, "Runs over time"): a run may not move a
warehouse back in time unless it rebuilds everything, because its marts would then mix verdicts
judged at two different instants."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from lead_parity.files import write_text
from lead_parity.pipeline.paths import RunPaths

STATE_FILE = "as_of.json"


class AsOfGoesBack(Exception):
    """A run's as_of is older than what the warehouse was last built at."""


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def latest_as_of(paths: RunPaths) -> datetime | None:
    try:
        text = json.loads((paths.history / STATE_FILE).read_text())["as_of"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def check_as_of(paths: RunPaths, as_of: datetime, full_refresh: bool) -> None:
    """Refuse an as_of older than the warehouse's latest, unless the run is a full refresh."""
    latest = latest_as_of(paths)
    if latest is not None and as_of < latest and not full_refresh:
        raise AsOfGoesBack(
            f"as_of {_iso(as_of)} is older than this warehouse's latest ({_iso(latest)}); "
            "pass --full-refresh (run config full_refresh: true) to rebuild it at that instant"
        )


def record_as_of(paths: RunPaths, as_of: datetime) -> None:
    """After a completed build: the instant the warehouse's marts were judged at."""
    paths.history.mkdir(parents=True, exist_ok=True)
    write_text(paths.history / STATE_FILE, json.dumps({"as_of": _iso(as_of)}))
