"""Epoch-millisecond times rendered the way each source writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_EPOCH = datetime(1970, 1, 1)


def date_ms(day: date) -> int:
    """Epoch ms of midnight UTC at the start of `day`."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


_DAY_MS = 86_400_000
_DATES: dict[int, str] = {}


def _fields(ms: int) -> str:
    # Hot path (tens of millions of calls at 1M persons): date text cached per day.
    day, rest = divmod(ms, _DAY_MS)
    text = _DATES.get(day)
    if text is None:
        text = _DATES[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
    seconds = rest // 1000
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{text}T{hours:02d}:{minutes:02d}:{seconds:02d}"


def iso_z(ms: int) -> str:
    """`2026-10-01T10:02:00Z` (Zendesk); ms must be a whole second."""
    return _fields(ms) + "Z"


def iso_z_ms(ms: int) -> str:
    """`2026-10-01T10:02:00.000Z` (HubSpot, receipts)."""
    return f"{_fields(ms)}.{ms % 1000:03d}Z"


def iso_offset(ms: int, offset_min: int, zulu: bool) -> str:
    """The same instant written in local time at a UTC offset (Segment clients)."""
    local = ms + offset_min * 60_000
    text = _fields(local)
    if ms % 1000:
        text += f".{local % 1000:03d}"
    if offset_min == 0:
        return text + ("Z" if zulu else "+00:00")
    sign = "+" if offset_min > 0 else "-"
    hours, minutes = divmod(abs(offset_min), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def ceil_second(ms: int) -> int:
    return -(-ms // 1000) * 1000
