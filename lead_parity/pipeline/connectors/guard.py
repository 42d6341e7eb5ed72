"""Stop a stream run that would never end: a cursor seen before, too many pages, too long.

An API that hands back a cursor it already gave (A, B, A, B ...) loops forever, landing one page
file per request until the disk fills. Every cursor a stream run requests is kept in a set, so
any repeat stops the run, not only the same cursor twice in a row. The page and time budgets
catch what no cursor check can: an API that keeps inventing new cursors.

A stop raises `StreamStopped` before the request is made: nothing more lands, and the saved
cursor still points just past the last page that did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

from lead_parity.pipeline.http_client import HttpClientError, HttpSettings

_SHOWN = 80


class StreamStopped(HttpClientError):
    """A stream run was stopped by a guard; the message names the vendor, stream and cursor."""


def _show(cursor: Hashable) -> str:
    text = repr(cursor)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


class StreamGuard:
    """The guards of one stream run (one source, one run): call `before_request` each page."""

    def __init__(
        self,
        vendor: str,
        stream: str,
        settings: HttpSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.vendor, self.stream = vendor, stream
        self.max_pages, self.max_seconds = settings.max_pages, settings.max_seconds
        self._clock = clock
        self._started = clock()
        self._seen: set[Hashable] = set()
        self.pages = 0

    def before_request(self, cursor: Hashable) -> None:
        """Record that the page at `cursor` is about to be requested, or raise StreamStopped."""
        where = f"{self.vendor} {self.stream}"
        if cursor in self._seen:
            raise StreamStopped(
                f"{where}: the API returned cursor {_show(cursor)} a second time in this run; "
                "stopped to avoid a loop (the saved cursor stays at the last landed page)"
            )
        if self.pages >= self.max_pages:
            raise StreamStopped(
                f"{where}: page budget of {self.max_pages} pages reached before cursor "
                f"{_show(cursor)}; stopped (LEAD_PARITY_HTTP_MAX_PAGES); the next run resumes"
            )
        elapsed = self._clock() - self._started
        if elapsed >= self.max_seconds:
            raise StreamStopped(
                f"{where}: time budget of {self.max_seconds:g} s used up before cursor "
                f"{_show(cursor)}; stopped (LEAD_PARITY_HTTP_MAX_SECONDS); the next run resumes"
            )
        self._seen.add(cursor)
        self.pages += 1
