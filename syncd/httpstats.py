"""Vendor HTTP responses, counted for /metrics without connectors knowing about metrics.

Each connector's transport calls `response(vendor, status)` once per HTTP exchange (None when
no answer came: a timeout, a reset). The shard is the one bound in the structlog context by
the engine and the start-up checks, so every call made on a shard's behalf is counted for it.
The daemon subscribes its metrics with `subscribe`; without a subscriber this costs nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from structlog.contextvars import get_contextvars

Observer = Callable[[str, str, int | None], None]  # (shard, vendor, status or None)

_lock = threading.Lock()
_observers: list[Observer] = []


def subscribe(observer: Observer) -> Callable[[], None]:
    """Call `observer` for every response from now on; returns the unsubscribe function."""
    with _lock:
        _observers.append(observer)

    def unsubscribe() -> None:
        with _lock:
            if observer in _observers:
                _observers.remove(observer)

    return unsubscribe


def response(vendor: str, status: int | None) -> None:
    """One HTTP exchange with `vendor` ended with `status` (None: no answer)."""
    with _lock:
        observers = list(_observers)
    if not observers:
        return
    shard = str(get_contextvars().get("shard", ""))
    for observer in observers:
        observer(shard, vendor, status)
