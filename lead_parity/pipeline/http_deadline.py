"""A deadline on each HTTP attempt that a server dripping bytes cannot stretch.

Socket timeouts bound each wait for bytes, so a server sending one byte a second (status line,
headers or body) would hold a request for as long as it likes. The connections of an adapter
mounted with `deadline_adapter` start a watchdog when they wait for a response: at the deadline
it shuts the socket down and the wait fails with `HeadersPastDeadline`, which urllib3 does not
retry (a second try would hold the stream as long again). The body's reader uses
`attempt_deadline()` for the rest of the same attempt.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_attempt = threading.local()


class HeadersPastDeadline(Exception):  # noqa: N818 - not an OSError on purpose: never retried
    """The response's status line and headers did not arrive before the deadline."""


def set_limit(seconds: float | None) -> None:
    """Give every response awaited by this thread from now on `seconds` (None: no limit)."""
    _attempt.limit = seconds
    _attempt.deadline = None


def attempt_deadline() -> float | None:
    """time.monotonic() by which the current attempt's response must be complete."""
    return getattr(_attempt, "deadline", None)


class _Watchdog:
    def __init__(self, sock: socket.socket | None, seconds: float) -> None:
        self.fired = False
        self._sock = sock
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        if self._sock is not None:
            # Already closed means the wait has ended anyway.
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


class _DeadlineMixin:
    def getresponse(self, *args: Any, **kwargs: Any):  # noqa: ANN201 - urllib3's signature
        limit = getattr(_attempt, "limit", None)
        if limit is None:
            return super().getresponse(*args, **kwargs)
        _attempt.deadline = time.monotonic() + limit
        with _Watchdog(getattr(self, "sock", None), limit) as watchdog:
            try:
                return super().getresponse(*args, **kwargs)
            except Exception:
                if watchdog.fired:
                    raise HeadersPastDeadline() from None
                raise


class _DeadlineHTTPConnection(_DeadlineMixin, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineMixin, HTTPSConnection):
    pass


class _DeadlinePool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def deadline_adapter(**kwargs: Any) -> HTTPAdapter:
    """An HTTPAdapter (same arguments) whose connections honour `set_limit`."""
    adapter = HTTPAdapter(**kwargs)
    adapter.poolmanager.pool_classes_by_scheme = {
        "http": _DeadlinePool,
        "https": _DeadlineHTTPSPool,
    }
    return adapter
