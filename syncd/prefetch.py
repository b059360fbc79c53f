"""Read ahead: the next page comes off the network while this one is decided and persisted.

A backfill spends about as long waiting on the CRM (reading pages, looking people up) as it
spends deciding and writing state; with one page in hand and the next being fetched on a
worker thread, the two overlap. At most `depth` pages wait in the queue, so memory stays
bounded. The worker is the only thread that talks to the connector while it runs, and it is
joined (its call in hand finished) before the cycle goes on to anything else; its error is
raised in the reader, after the pages before it.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from types import TracebackType
from typing import Generic, TypeVar, cast

T = TypeVar("T")

_DONE = object()


class ReadAhead(Generic[T]):
    """Iterate `produce()` on a worker thread, `depth` items ahead of the consumer."""

    def __init__(self, produce: Callable[[], Iterator[T]], depth: int = 1, name: str = "read"):
        self._produce = produce
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        # the worker runs in the caller's context: log fields bound there (the shard) carry over
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run,), name=f"syncd-{name}", daemon=True
        )

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        items = self._produce()
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
        finally:
            close = getattr(items, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> ReadAhead[T]:
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(T, item)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with suppress(queue.Empty):  # let a worker blocked on a full queue see the stop
                self._queue.get(timeout=0.1)
        self._thread.join()
