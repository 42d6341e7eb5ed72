"""Read the next batch of input files while DuckDB parses the current one.

Reading, gunzipping and splitting files is Python's work on one core; DuckDB's parse releases
the GIL. Overlapping them keeps both cores busy.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """Yield `items` in order, producing up to `ahead` of them early in a background thread.

    An exception raised while producing is raised here, at the item it replaced. If the consumer
    stops early, the producer stops after the item it is on.
    """
    slots: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(slots, (item, None), stop):
                    return
            _put(slots, (_DONE, None), stop)
        except BaseException as exc:  # handed to the consumer, who re-raises it
            _put(slots, (_DONE, exc), stop)

    worker = threading.Thread(target=produce, name="lead-parity-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = slots.get()
            if exc is not None:
                raise exc
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _put(slots: queue.Queue, entry: tuple, stop: threading.Event) -> bool:
    """Put `entry`, giving up (False) once the consumer has stopped."""
    while not stop.is_set():
        try:
            slots.put(entry, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
