"""The batch prefetcher: order kept, errors raised where they happened, no thread left behind."""

import threading
import time

import pytest

from lead_parity.pipeline.ingest.prefetch import prefetched


def test_items_arrive_in_order_and_are_produced_ahead():
    produced = []

    def items():
        for i in range(5):
            produced.append(i)
            yield i

    seen = []
    for item in prefetched(items()):
        time.sleep(0.05)  # the consumer is slower: the producer stays one item ahead
        seen.append((item, len(produced)))
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    assert all(made >= min(item + 2, 5) for item, made in seen[:-1])


def test_an_error_while_producing_is_raised_at_the_item_it_replaced():
    def items():
        yield 1
        raise OSError("cannot read segment/b.jsonl")

    got = []
    with pytest.raises(OSError, match="segment/b.jsonl"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1]


def test_a_consumer_that_stops_early_stops_the_producer():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    before = threading.active_count()
    for item in prefetched(items()):
        if item == 2:
            break
    assert threading.active_count() == before
    assert len(produced) <= 5


def test_a_consumer_error_stops_the_producer_too():
    before = threading.active_count()
    with pytest.raises(ValueError):
        for _ in prefetched(iter(range(1000))):
            raise ValueError("DuckDB failed on this batch")
    assert threading.active_count() == before
