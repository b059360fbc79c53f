"""Chaos with several instances on one PostgreSQL store: a zombie owner, a long first cycle,
a lost lease taken up again. Pauses are events and a test-driven clock, never sleeps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.daemon import Daemon
from syncd.health import Metrics
from syncd.sdnotify import Notifier
from syncd.store import LeaseLost
from tests.acceptance.chaos import (
    LEASE_S,
    SCALE,
    HookedStore,
    Remote,
    duplicates_and_losses,
    instance,
    outbox_keys,
)
from tests.conftest import Clock, _reset_pg, rejection

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def pg(pg_database_url: str) -> Iterator[str]:
    _reset_pg(pg_database_url)
    yield pg_database_url


def _settle(url: str, remote: Remote) -> None:
    outbox = outbox_keys(url)
    assert outbox, "the scenario wrote nothing at all"
    duplicates, losses = duplicates_and_losses(remote.sink.keys(), outbox)
    assert (duplicates, losses) == (0, 0), f"{duplicates} duplicate(s), {losses} lost"
    assert set(outbox.values()) == {"done"}


def test_a_zombie_resumed_after_losing_its_lease_writes_nothing(pg: str) -> None:
    """Instance A is paused with a claimed batch; B takes the shard over and finishes the
    work (A's batch after the grace period). When A wakes up it sends nothing."""
    clock, remote = Clock(), Remote()
    remote.add([rejection(n) for n in range(20 * SCALE)])
    a = instance(pg, "a", remote, clock)
    b = instance(pg, "b", remote, clock)
    paused, resume = threading.Event(), threading.Event()
    outcome: list[BaseException | None] = []
    store_a = a.store
    assert isinstance(store_a, HookedStore)

    def pause() -> None:
        store_a.after_claim = lambda: None
        paused.set()
        assert resume.wait(60), "the test never resumed the zombie"

    def zombie() -> None:
        try:
            a.engine.cycle("crm")
            outcome.append(None)
        except BaseException as exc:  # the result is asserted on the test's thread
            outcome.append(exc)

    store_a.after_claim = pause
    try:
        assert a.acquire() == ["crm"]
        worker = threading.Thread(target=zombie)
        worker.start()
        assert paused.wait(60), "instance A never claimed a batch"
        clock.advance(LEASE_S + 1)  # A's lease runs out while it is paused
        assert b.acquire() == ["crm"]
        for _ in range(10):
            b.engine.cycle("crm")
            b.leases.renew()
            clock.advance(30)
        resume.set()
        worker.join(60)
        assert isinstance(outcome[0], LeaseLost)
        _settle(pg, remote)
        assert remote.sink.calls["find"] >= 1  # A's batch was looked up, not re-sent blindly
    finally:
        resume.set()
        a.close()
        b.close()


def test_a_long_first_cycle_keeps_its_shard(pg: str) -> None:
    """A first cycle much longer than the lease: the heartbeat keeps renewing it, the second
    instance never gets the shard, and every touch is written once."""
    clock, remote = Clock(), Remote()
    remote.add([rejection(n) for n in range(60 * SCALE)])
    a = instance(pg, "a", remote, clock)
    b = instance(pg, "b", remote, clock)
    b_got: list[list[str]] = []

    def slow_page() -> None:
        clock.advance(LEASE_S / 2)  # each page takes half a lease
        a.leases.renew()  # the heartbeat thread's round, every lease_s / 3 at most
        b_got.append(b.acquire())

    remote.source.between_pages = slow_page
    try:
        assert a.acquire() == ["crm"]
        summary = a.engine.cycle("crm")
        assert len(b_got) >= 6  # the cycle lasted three leases and more
        assert all(got == [] for got in b_got)
        assert summary.writes["ok"] == len(outbox_keys(pg))
        _settle(pg, remote)
    finally:
        a.close()
        b.close()


def test_a_lost_shard_is_taken_up_again_when_its_lease_comes_back(pg: str, tmp_path: Path) -> None:
    """After losing its lease the daemon does not mark the shard failed for good: it stops
    it, and once the other instance lets go it takes it up again and writes."""
    clock, remote = Clock(), Remote()
    remote.add([rejection(n) for n in range(5)])
    a = instance(pg, "a", remote, clock)
    b = instance(pg, "b", remote, clock)
    daemon = Daemon(tmp_path / "chaos.toml", a.config, notifier=Notifier(), metrics=Metrics())
    try:
        next_run = dict.fromkeys(a.acquire(), 0.0)
        clock.advance(LEASE_S + 1)  # A stalls past its lease
        assert b.acquire() == ["crm"]
        assert a.leases.renew() == ["crm"]
        daemon._renew(a, next_run)
        assert next_run == {} and daemon.failed == {}
        b.release()  # B stops
        daemon._renew(a, next_run)
        assert list(next_run) == ["crm"]
        daemon._cycle(a, "crm")
        assert daemon.failed == {}
        _settle(pg, remote)
    finally:
        a.close()
        b.close()


def test_a_cycle_stops_at_its_next_page_once_the_lease_is_lost(pg: str, tmp_path: Path) -> None:
    """The heartbeat finds the lease taken over in the middle of a backfill: the daemon stops
    that cycle after the page in hand (nothing more read, nothing written), without failing
    the shard, and the new owner finishes the work exactly once."""
    clock, remote = Clock(), Remote()
    remote.add([rejection(n) for n in range(40)])
    a = instance(pg, "a", remote, clock)
    b = instance(pg, "b", remote, clock)
    daemon = Daemon(tmp_path / "chaos.toml", a.config, notifier=Notifier(), metrics=Metrics())
    pages: list[int] = []

    def after_page() -> None:
        pages.append(len(pages) + 1)
        if len(pages) == 1:  # A stalls here past its lease; B takes the shard over
            clock.advance(LEASE_S + 1)
            assert b.acquire() == ["crm"]
            assert a.leases.renew() == ["crm"]

    a.engine.heartbeat = after_page
    a.engine.stop_requested = lambda: daemon._stop_requested(a)
    try:
        assert a.acquire() == ["crm"]
        daemon._cycle(a, "crm")
        assert pages == [1] and daemon.failed == {}
        assert "crm" not in a.leases.held() and not a.leases.is_lost("crm")
        assert remote.sink.writes == []
        for _ in range(3):
            b.engine.cycle("crm")
            b.leases.renew()
        assert remote.sink.calls["write"] > 0
        _settle(pg, remote)
        assert len(outbox_keys(pg)) == 40
    finally:
        a.close()
        b.close()
