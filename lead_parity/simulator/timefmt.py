"""Epoch-millisecond times rendered the way each source writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_EPOCH = datetime(1970, 1, 1)


def date_ms(day: date) -> int:
    """Epoch ms of midnight UTC at the start of `day`."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


_DAY_MS = 86_400_000
_DATES: dict[int, str] = {}
# Hot path (tens of millions of calls at 1M persons): every clock text of a day and every
# millisecond suffix is made once, so rendering a time is two lookups and a concatenation.
_CLOCK = tuple(f"T{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60))
_MILLIS = tuple(f".{ms:03d}" for ms in range(1000))
_MILLIS_Z = tuple(m + "Z" for m in _MILLIS)


def _date(day: int) -> str:
    text = _DATES.get(day)
    if text is None:
        text = _DATES[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
    return text


# The renderers are written out in full (no shared helper call): about 13 calls per person.


def iso_z(ms: int) -> str:
    """`2026-10-01T10:02:00Z` (Zendesk); ms must be a whole second."""
    day, rest = divmod(ms, _DAY_MS)
    return (_DATES.get(day) or _date(day)) + _CLOCK[rest // 1000] + "Z"


def iso_z_ms(ms: int) -> str:
    """`2026-10-01T10:02:00.000Z` (HubSpot, receipts)."""
    day, rest = divmod(ms, _DAY_MS)
    return (_DATES.get(day) or _date(day)) + _CLOCK[rest // 1000] + _MILLIS_Z[rest % 1000]


def iso_offset(ms: int, offset_min: int, zulu: bool) -> str:
    """The same instant written in local time at a UTC offset (Segment clients)."""
    local = ms + offset_min * 60_000
    day, rest = divmod(local, _DAY_MS)
    text = (_DATES.get(day) or _date(day)) + _CLOCK[rest // 1000]
    if ms % 1000:
        text += _MILLIS[local % 1000]
    if offset_min == 0:
        return text + ("Z" if zulu else "+00:00")
    return text + (_OFFSETS.get(offset_min) or _offset(offset_min))


_OFFSETS: dict[int, str] = {}


def _offset(offset_min: int) -> str:
    sign = "+" if offset_min > 0 else "-"
    hours, minutes = divmod(abs(offset_min), 60)
    text = _OFFSETS[offset_min] = f"{sign}{hours:02d}:{minutes:02d}"
    return text


def ceil_second(ms: int) -> int:
    return -(-ms // 1000) * 1000
