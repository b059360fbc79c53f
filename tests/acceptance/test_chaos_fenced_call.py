"""Chaos between the outbox intent and the vendor call: a process paused there (SIGSTOP, a
long rate-governor wait, a token refresh) while its shard is taken over.

The paused instance has claimed a batch and passed its lease check; the new owner treats the
batch as in doubt, looks it up after the grace period, finds nothing and writes it. When the
paused instance resumes, it must send nothing: every task is in the CRM exactly once and no
write request leaves the stale instance. Real connectors against their local fakes; the pause
is an event, the clock the test's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syncd.config import EngineConfig, LoadedConfig, Shard, ShardConfig, StateConfig, SyncdConfig
from syncd.connectors import Connector
from syncd.engine import Engine
from syncd.retry import RateGovernor, attempt_deadline
from syncd.store import LeaseLost, Store
from tests.acceptance.chaos import LEASE_S, duplicates_and_losses, outbox_keys
from tests.acceptance.test_chaos_storms import hubspot_deals
from tests.conftest import Clock


def _instance(url: str, shard: str, type_name: str, settings: Any, conn: Connector, clock: Clock):  # type: ignore[no-untyped-def]
    core = ShardConfig(type=type_name)
    config = LoadedConfig(
        Path("chaos.toml"),
        SyncdConfig(
            shards={shard: core},
            state=StateConfig(url=url, lease_s=LEASE_S),
            engine=EngineConfig(lag_s=0, retry_base_s=0.001, retry_max_s=0.01, max_attempts=50),
        ),
        {shard: Shard(shard, core, settings)},
    )
    store = Store.open(url, clock=clock.ts)
    return Engine(config, store, {shard: conn}, clock=clock)


def _paused_takeover(
    url: str,
    shard: str,
    type_name: str,
    settings: Any,
    conn: Connector,
    monkeypatch: pytest.MonkeyPatch,
    writes: Callable[[], int],
    settled: Callable[[], bool],
) -> int:
    """A claims a batch and stops in the governor right before its first write; B takes the
    shard over and finishes everything; A resumes. Returns the write requests A sent after."""
    clock = Clock(datetime.now(UTC))
    a = _instance(url, shard, type_name, settings, conn, clock)
    b = _instance(url, shard, type_name, settings, conn, clock)
    paused, resume = threading.Event(), threading.Event()
    outcome: list[BaseException | None] = []
    acquire = RateGovernor.acquire

    def pausing_acquire(self: RateGovernor, max_wait_s: float = 60.0) -> None:
        if threading.current_thread() is worker and attempt_deadline() and not paused.is_set():
            paused.set()  # the intent is committed, the lease checked, the call not yet made
            assert resume.wait(60), "the test never resumed the paused instance"
        acquire(self, max_wait_s)

    def run_a() -> None:
        try:
            a.cycle(shard)
            outcome.append(None)
        except BaseException as exc:  # asserted on the test's thread
            outcome.append(exc)

    monkeypatch.setattr(RateGovernor, "acquire", pausing_acquire)
    worker = threading.Thread(target=run_a)
    try:
        epoch_a = a.store.acquire_shard(shard, "a", LEASE_S)
        assert epoch_a is not None
        a.epochs[shard] = epoch_a
        worker.start()
        assert paused.wait(60), "instance A never reached a write"
        clock.advance(LEASE_S + 1)  # A's lease runs out while it is stopped
        epoch_b = b.store.acquire_shard(shard, "b", LEASE_S)
        assert epoch_b is not None and epoch_b > epoch_a
        b.epochs[shard] = epoch_b
        sink = conn.sink
        assert sink is not None
        # what `Runtime.acquire` does on a takeover: A's claimed batch is in doubt now
        assert b.store.recover_inflight(shard, 0.0 if sink.idempotent else sink.find_grace_s)
        for _ in range(12):  # past the grace period, A's batch is looked up and re-sent
            b.cycle(shard)
            assert b.store.acquire_shard(shard, "b", LEASE_S) == epoch_b
            if settled():
                break
            clock.advance(LEASE_S / 2)
        assert settled(), "the new owner did not finish the work"
        before = writes()
        resume.set()
        worker.join(60)
        assert isinstance(outcome[0], LeaseLost), outcome
        return writes() - before
    finally:
        resume.set()
        worker.join(60)
        a.store.close()
        b.store.close()


def test_hubspot_a_paused_instance_sends_nothing_after_a_takeover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> None:
    """HubSpot creates tasks (no upsert): a stale instance's late batch would duplicate
    every task the new owner already wrote."""
    with hubspot_deals(tmp_path, monkeypatch, 6) as run:
        run.engine.store.close()
        conn = run.engine.connectors["hubspot"]
        settings = run.engine.config.shards["hubspot"].settings

        def settled() -> bool:
            outbox = outbox_keys(store_url)
            return len(outbox) >= run.deals and set(outbox.values()) == {"done"}

        def writes() -> int:
            return sum(
                1 for r in run.fake.served if r.method == "POST" and "batch/create" in r.path
            )

        late = _paused_takeover(
            store_url, "hubspot", "hubspot", settings, conn, monkeypatch, writes, settled
        )
        assert late == 0
        assert duplicates_and_losses(run.task_keys(), outbox_keys(store_url)) == (0, 0)


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Any]:
    from syncd_salesforce.testkit import LocalOrg

    local = LocalOrg(tmp_path)
    try:
        yield local
    finally:
        local.stop()


def test_salesforce_a_paused_instance_sends_nothing_after_a_takeover(
    org: Any, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> None:
    """Salesforce upserts by key, so a late batch would not duplicate tasks, but it would
    overwrite what the new owner wrote: it must not leave at all."""
    org.closed_lost_many(6)
    settings = org.settings()
    conn = org.connector("sf", sleep=lambda _s: None)
    for check in conn.checks:
        check()

    def settled() -> bool:
        outbox = outbox_keys(store_url)
        return len(outbox) >= 6 and set(outbox.values()) == {"done"}

    def writes() -> int:
        return len([c for c in org.fake.calls("PATCH") if "composite/sobjects" in c.path])

    late = _paused_takeover(
        store_url, "sf", "salesforce", settings, conn, monkeypatch, writes, settled
    )
    assert late == 0
    keys = [t["Syncd_Key__c"] for t in org.tasks()]
    assert duplicates_and_losses(keys, outbox_keys(store_url)) == (0, 0)
