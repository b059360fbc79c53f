"""Shard leases that hold while a cycle works: renewed from a heartbeat thread.

A lease renewed only between cycles runs out during any cycle longer than `lease_s` (a first
backfill), and another instance takes the shard over mid-work. The keeper renews every lease
it holds every `lease_s / 3` from its own thread, whatever the cycle is doing. A renewal that
finds the shard taken over (another owner, a newer epoch) marks it lost: the cycle stops at
its next page or batch, and the shard is taken up again once its lease is reacquired.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from syncd.store import Store

log = structlog.get_logger(__name__)


class LeaseKeeper:
    def __init__(self, store: Store, owner: str, lease_s: float):
        self.store = store
        self.owner = owner
        self.lease_s = lease_s
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}  # shard -> epoch
        self._lost: set[str] = set()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        # Called after each renewal round (tests pause or count rounds here).
        self.after_round: Callable[[], None] = lambda: None

    @property
    def interval_s(self) -> float:
        return self.lease_s / 3

    def hold(self, shard: str, epoch: int) -> None:
        with self._lock:
            self._held[shard] = epoch
            self._lost.discard(shard)

    def drop(self, shard: str) -> None:
        with self._lock:
            self._held.pop(shard, None)
            self._lost.discard(shard)

    def held(self) -> dict[str, int]:
        with self._lock:
            return dict(self._held)

    def is_lost(self, shard: str) -> bool:
        with self._lock:
            return shard in self._lost

    def renew(self) -> list[str]:
        """One renewal round over every held lease; returns the shards found lost."""
        lost: list[str] = []
        for shard, epoch in self.held().items():
            try:
                kept = self.store.renew_shard(shard, self.owner, epoch, self.lease_s)
            except Exception as exc:  # database away: keep trying, the lease may still hold
                log.warning("lease.renew_failed", shard=shard, error=type(exc).__name__)
                continue
            if not kept:
                with self._lock:
                    if self._held.get(shard) == epoch:
                        del self._held[shard]
                        self._lost.add(shard)
                log.warning("shard.lease_lost", shard=shard, epoch=epoch)
                lost.append(shard)
        self.after_round()
        return lost

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_s):
            self.renew()

    def start(self) -> None:
        if self._thread is None:
            self._stopped.clear()
            self._thread = threading.Thread(target=self._run, name="syncd-leases", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
