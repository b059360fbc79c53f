"""Fencing the vendor call, leases renewed by the heartbeat, in-doubt recovery after the grace."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from syncd.connectors import RetriableError
from syncd.leases import LeaseKeeper
from syncd.retry import attempts_until, call_with_retry
from syncd.store import LeaseLost, OutboxItem, Store
from tests.conftest import NOW, rejection
from tests.unit.world import World, open_world


class PausingStore(Store):
    """A store whose claim runs `after_claim` once committed: the moment a process may be
    paused between claiming a batch and sending it."""

    after_claim: Callable[[], None] = staticmethod(lambda: None)

    def claim(self, sink_shard: str, epoch: int, limit: int) -> list[OutboxItem]:
        items: list[OutboxItem] = super().claim(sink_shard, epoch, limit)
        self.after_claim()
        return items


@pytest.fixture
def world(store_url: str) -> Iterator[World]:
    w = open_world(store_url, PausingStore)
    yield w
    w.store.close()


def test_a_process_paused_after_claiming_sends_nothing_once_its_shard_moved(
    world: World,
) -> None:
    """The old owner is paused between claim and call while another instance takes over: on
    waking it sends nothing, and the new owner writes each touch exactly once after the grace."""
    world.sink.find_grace_s = 600.0  # an index lag longer than the pause
    world.add(*(rejection(n) for n in range(3)))
    old = world.engine(owner="a")
    store = world.store
    assert isinstance(store, PausingStore)

    def pause_and_lose_the_lease() -> None:
        store.after_claim = lambda: None
        world.clock.now += timedelta(minutes=5)  # the pause outlives the 60 s lease
        epoch = store.acquire_shard("crm", "b", 60)
        assert epoch is not None
        assert store.recover_inflight("crm", world.sink.find_grace_s) == 3

    store.after_claim = pause_and_lose_the_lease
    with pytest.raises(LeaseLost):
        old.cycle("crm")
    assert world.sink.writes == []  # the zombie's batch never reached the vendor

    new = world.engine(owner="b")
    new.cycle("crm")
    assert world.sink.writes == [] and world.sink.calls["find"] == 0  # still in its grace
    world.clock.now += timedelta(minutes=5)  # 10 minutes after the claim
    assert world.store.renew_shard("crm", "b", new.epochs["crm"], 60)  # its heartbeat
    new.cycle("crm")
    assert Counter(world.sink.keys()).most_common(1)[0][1] == 1
    assert len(world.sink.writes) == 3
    assert world.store.outbox_counts("crm") == {"done": 3}


def test_a_call_longer_than_the_lease_left_is_not_started(world: World) -> None:
    """With less lease left than one call may take, the batch goes back to pending unsent."""
    world.add(rejection(1))
    engine = world.engine()
    world.sink.call_timeout_s = 90.0  # longer than the 60 s lease
    summary = engine.cycle("crm")
    assert world.sink.writes == [] and world.sink.calls["write"] == 0
    assert summary.writes["ok"] == 0
    assert world.store.outbox_counts("crm") == {"pending": 1}
    world.sink.call_timeout_s = 10.0
    engine.cycle("crm")
    assert len(world.sink.writes) == 1


def test_in_doubt_recovery_waits_the_grace_from_the_attempt_across_restarts(store: Store) -> None:
    """A write interrupted at T is looked up at T + grace, however late the restart came."""
    t = NOW.timestamp()
    now = [t]
    store.clock = lambda: now[0]
    epoch = store.acquire_shard("crm", "a", 60)
    assert epoch is not None
    from syncd.store import Materialisation

    store.materialise(
        "crm",
        epoch,
        [Materialisation(1, 0, "k1", "crm", {"write": "task"}, None, "crm:contact:1")],
    )
    assert [i.key for i in store.claim("crm", epoch, 10)] == ["k1"]  # attempted at t
    now[0] = t + 5  # the restart
    assert store.recover_inflight("crm", 8.0) == 1
    now[0] = t + 7.9
    assert store.due_in_doubt("crm", 10) == []
    now[0] = t + 8.0
    assert [i.key for i in store.due_in_doubt("crm", 10)] == ["k1"]


@pytest.mark.postgres
def test_the_heartbeat_keeps_a_lease_and_notices_a_takeover(pg_database_url: str) -> None:
    """Renewals keep other instances off however long the owner works; once another
    instance took the shard (after a pause), the next renewal reports it lost."""
    from tests.conftest import _reset_pg

    _reset_pg(pg_database_url)
    now = [NOW.timestamp()]
    a = Store.open(pg_database_url, clock=lambda: now[0])
    b = Store.open(pg_database_url, clock=lambda: now[0])
    try:
        keeper = LeaseKeeper(a, "a", 30.0)
        epoch = a.acquire_shard("crm", "a", 30.0)
        assert epoch is not None
        keeper.hold("crm", epoch)
        for _ in range(10):  # 100 s of work, renewed every 10 s
            now[0] += keeper.interval_s
            assert keeper.renew() == []
            assert b.acquire_shard("crm", "b", 30.0) is None
        now[0] += 31  # paused past the lease
        assert b.acquire_shard("crm", "b", 30.0) == epoch + 1
        assert keeper.renew() == ["crm"]
        assert keeper.is_lost("crm") and keeper.held() == {}
    finally:
        a.close()
        b.close()


def test_retries_inside_a_fenced_write_stop_at_the_deadline() -> None:
    """A connector's own retries do not start a new attempt after the lease's deadline."""
    clock = [100.0]
    calls: list[float] = []

    def flaky() -> str:
        calls.append(clock[0])
        raise RetriableError("429", retry_after_s=5.0)

    def sleep(s: float) -> None:
        clock[0] += s

    with attempts_until(112.0), pytest.raises(RetriableError):
        call_with_retry(flaky, attempts=10, base_s=0.01, sleep=sleep, clock=lambda: clock[0])
    assert calls == [100.0, 105.0, 110.0]  # the next one would start at 115 > 112
    calls.clear()
    with pytest.raises(RetriableError):
        call_with_retry(flaky, attempts=4, base_s=0.01, sleep=sleep, clock=lambda: clock[0])
    assert len(calls) == 4  # no deadline outside a fenced write


def test_a_lease_too_short_for_the_shards_calls_is_reported_at_start(world: World) -> None:
    """A lease renewed every lease_s / 3 that could never leave a whole call's time is named
    at start, with the fix, instead of silently fencing every write."""
    from dataclasses import replace

    from structlog.testing import capture_logs

    from syncd.config import StateConfig
    from syncd.runtime import Runtime

    engine = world.engine()
    config = replace(
        engine.config, core=engine.config.core.model_copy(update={"state": StateConfig(lease_s=30)})
    )
    with capture_logs() as logs:
        Runtime(config, world.store, engine.connectors, engine, owner="me")
    (warning,) = [e for e in logs if e["event"] == "lease.shorter_than_calls"]
    assert warning["shard"] == "crm" and warning["timeout_s"] == 30.0
    assert "lease_s" in warning["action"]
