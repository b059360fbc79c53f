"""Reading ahead keeps the order, raises the source's error in its place, stops when told."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from syncd.prefetch import ReadAhead


def test_items_arrive_in_order_and_the_error_after_them() -> None:
    """The pages before a failure are all handed over, then the failure itself."""

    def produce() -> Iterator[int]:
        yield from range(5)
        raise RuntimeError("the CRM went away")

    got: list[int] = []
    with ReadAhead(produce) as ahead, pytest.raises(RuntimeError, match="went away"):
        for item in ahead:
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_leaving_early_stops_the_worker_one_page_ahead_at_most() -> None:
    """A consumer that stops after one page leaves the producer at most depth + 1 pages in,
    and the producer's generator is closed (its connection released) before exit returns."""
    produced: list[int] = []
    closed = threading.Event()

    def produce() -> Iterator[int]:
        try:
            for n in range(100):
                produced.append(n)
                yield n
        finally:
            closed.set()

    with ReadAhead(produce, depth=1) as ahead:
        for item in ahead:
            assert item == 0
            break
    assert closed.is_set()
    assert len(produced) <= 3


def test_the_worker_sees_the_callers_context() -> None:
    """Log fields bound by the caller (the shard) are bound on the worker too."""
    import contextvars

    shard: contextvars.ContextVar[str] = contextvars.ContextVar("shard", default="-")
    shard.set("crm")

    def produce() -> Iterator[str]:
        yield shard.get()

    with ReadAhead(produce) as ahead:
        assert list(ahead) == ["crm"]
