"""Pauses on the engine and the store, with a controlled clock: a paused prospect gets no
touches, and resuming moves their plan on by the days paused (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from syncd.connectors import FatalSyncError
from syncd.model import Cursor, Page
from syncd.runtime import Runtime
from syncd.store import Store
from tests.conftest import NOW, rejection
from tests.unit.world import World


def _dues(store: Store, key: str) -> dict[int, date]:
    history = store.history([key])[key]
    assert history.plan is not None
    return {t.seq: t.due for t in history.plan.touches}


def test_paused_prospect_gets_no_touch_and_resumes_from_today(world: World) -> None:
    """While paused, nothing is written for the person (others go on); resumed 10 days
    later, the touches still planned move on 10 days and the held thank-you goes out."""
    world.add(rejection(0), rejection(1))
    key = "crm:contact:C0001"
    assert world.store.pause("prospect", key, "asked by the rep")
    summary = world.engine().cycle("crm")
    assert summary.paused >= 1
    assert [w.prospect.id for w in world.sink.writes] == ["C0000"]
    before = _dues(world.store, key)
    world.clock.now = NOW + timedelta(days=10)
    assert world.store.resume("prospect", key, world.clock.now.date()) == len(before)
    after = _dues(world.store, key)
    assert {seq: due - before[seq] for seq, due in after.items()} == dict.fromkeys(
        before, timedelta(days=10)
    )
    world.engine().cycle("crm")
    assert sorted(w.prospect.id for w in world.sink.writes) == ["C0000", "C0001"]
    assert world.store.resume("prospect", key, world.clock.now.date()) is None


def test_pausing_twice_changes_nothing(world: World) -> None:
    """A second pause of the same thing keeps the first one's time and reason."""
    assert world.store.pause("shard", "crm", "first")
    assert not world.store.pause("shard", "crm", "second")
    (pause,) = world.store.pauses()
    assert pause.reason == "first" and world.store.paused().shards == {"crm"}


class _Revoked:
    def read(self, cursor: Cursor | None, until: object) -> list[Page]:
        raise FatalSyncError("INVALID_SESSION_ID")


def test_once_records_a_shards_fatal_error_for_status(world: World) -> None:
    """`syncd once` leaves the error that stopped a shard where `syncd status` reads it."""
    engine = world.engine()
    engine.connectors["crm"].source = _Revoked()  # type: ignore[assignment]
    rt = Runtime(engine.config, world.store, engine.connectors, engine, owner="me")
    with pytest.raises(FatalSyncError):
        rt.once()
    row = world.store.shard_row("crm")
    assert row is not None and row["failed_at"] == NOW.timestamp()
    assert row["last_error"] == "FatalSyncError: INVALID_SESSION_ID"
    world.store.mark_success("crm")
    row = world.store.shard_row("crm")
    assert row is not None and row["failed_at"] is None and row["last_error"]
