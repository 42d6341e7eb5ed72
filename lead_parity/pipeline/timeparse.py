"""Parsing of user-given instants (`--as-of`)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_as_of(text: str) -> datetime:
    """An aware UTC datetime from ISO-8601 (a `Z` or any offset; no offset means UTC)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
