"""Streaming writers: JSONL per UTC day and paged API responses, O(page) memory each."""

from __future__ import annotations

import base64
import gzip
import heapq
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import IO

import orjson

from .timeline import Calendar

_FLUSH_BYTES = 256 * 1024


class DayFiles:
    """One JSONL file per UTC day of the record's time; `gz_day(day)` files are gzip-compressed.

    Each day keeps one small byte buffer (bounded memory whatever the number of records).
    """

    def __init__(self, folder: Path, cal: Calendar, gz_day: Callable[[int], bool]) -> None:
        self.folder, self.cal, self.gz_day = folder, cal, gz_day
        folder.mkdir(parents=True, exist_ok=True)
        self._buffers: dict[int, bytearray] = {}
        self._files: dict[int, tuple[IO[bytes], IO[bytes] | None]] = {}

    def write_block(self, day: int, block: bytes) -> None:
        """Whole lines (each ending in a newline) of one day, in order."""
        buf = self._buffers.get(day)
        if buf is None:
            buf = self._buffers[day] = bytearray()
        buf += block
        if len(buf) >= _FLUSH_BYTES:
            self._flush(day)

    def _flush(self, day: int) -> None:
        buf = self._buffers.get(day)
        if not buf:
            return
        if day not in self._files:
            gz = self.gz_day(day)
            name = self.cal.day_date(day).isoformat() + (".jsonl.gz" if gz else ".jsonl")
            raw = open(self.folder / name, "wb")  # noqa: SIM115 - closed in close()
            # mtime=0 and no file name in the header: byte-identical output per seed.
            packed = (
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1)
                if gz
                else None
            )
            self._files[day] = (raw, packed)
        raw, packed = self._files[day]
        (packed or raw).write(buf)
        buf.clear()

    def close(self) -> list[Path]:
        for day in sorted(self._buffers):
            self._flush(day)
        paths = []
        for _day, (raw, packed) in sorted(self._files.items()):
            if packed is not None:
                packed.close()
            raw.close()
            paths.append(Path(raw.name))
        return paths


def page_token(n: int) -> str:
    return base64.urlsafe_b64encode(f"page:{n}".encode()).decode().rstrip("=")


class PageWriter:
    """API pages of `per_page` primary items, written as they fill.

    Items are (kind, payload); only `primary` kinds count toward a page. `add_later` delays an
    item by a number of primary items, so a newer version or a sideload lands on a later page.
    `render(items, page_number, is_last)` builds the page document.
    """

    def __init__(
        self,
        folder: Path,
        render: Callable[[list, int, bool], bytes],
        primary: str,
        per_page: int = 100,
    ) -> None:
        self.folder, self.render, self.primary, self.per_page = folder, render, primary, per_page
        self._page: list[tuple[str, object]] = []
        self._in_page = 0
        self._count = 0
        self._pages = 0
        self._later: list[tuple[int, int, tuple[str, object]]] = []
        self._seq = itertools.count()
        self.paths: list[Path] = []

    def add(self, kind: str, payload: object) -> None:
        self._append((kind, payload))
        while self._later and self._later[0][0] <= self._count:
            self._append(heapq.heappop(self._later)[2])

    def add_later(self, kind: str, payload: object, delay: int) -> None:
        heapq.heappush(self._later, (self._count + delay, next(self._seq), (kind, payload)))

    def _append(self, item: tuple[str, object]) -> None:
        if item[0] == self.primary:
            if self._in_page >= self.per_page:
                self._write(last=False)
            self._in_page += 1
            self._count += 1
        self._page.append(item)

    def _write(self, last: bool) -> None:
        self._pages += 1
        if not self.paths:
            self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"page-{self._pages:06d}.json"
        path.write_bytes(self.render(self._page, self._pages, last))
        self.paths.append(path)
        self._page, self._in_page = [], 0

    def close(self) -> list[Path]:
        while self._later:
            self._append(heapq.heappop(self._later)[2])
        self._write(last=True)
        return self.paths

    @property
    def pages(self) -> int:
        return self._pages


def hubspot_page(items: list, n: int, last: bool) -> bytes:
    """A CRM v3 / Form Integrations v1 page; payloads are already JSON."""
    body = b'{"results":[' + b",".join(payload for _, payload in items) + b"]"
    if not last:
        after = str(n * 100)
        body += b',"paging":' + orjson.dumps({"next": {"after": after, "link": f"?after={after}"}})
    return body + b"}"


def zendesk_page(items: list, n: int, last: bool) -> bytes:
    """An incremental cursor export page with users and metric_sets sideloaded."""
    tickets, users, metrics = [], [], []
    for kind, payload in items:
        if kind == "ticket":
            tickets.append(payload[0])
            if payload[1] is not None:
                metrics.append(payload[1])
        else:
            users.append(payload)
    after = page_token(n)
    tail = {
        "after_cursor": after,
        "before_cursor": page_token(n - 1) if n > 1 else None,
        "after_url": None
        if last
        else (
            "https://example.zendesk.com/api/v2/incremental/tickets/cursor.json"
            f"?cursor={after}&include=users,metric_sets"
        ),
        "end_of_stream": last,
    }
    return (
        b'{"tickets":['
        + b",".join(tickets)
        + b'],"users":['
        + b",".join(users)
        + b'],"metric_sets":['
        + b",".join(metrics)
        + b"],"
        + orjson.dumps(tail)[1:]
    )
