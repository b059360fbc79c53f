"""Scale: batched persistence decides what one-at-a-time would, retention, flat memory."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syncd.config import LoadedConfig, Shard, ShardConfig, StateConfig, SyncdConfig
from syncd.connectors import Connector
from syncd.engine import CycleSummary, Engine
from syncd.model import Channel, Intent, RejectionEvent, ReplyInfo, SourceKind
from syncd.store import Store
from syncd.store import schema as t
from syncd.testing.fakes import FakeDirectory, FakeSink, FakeSource
from syncd.testing.plugin import FakeSettings
from tests.conftest import NOW, Clock, rejection


@dataclass
class Rig:
    store: Store
    clock: Clock
    source: FakeSource = field(default_factory=FakeSource)
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    sink: FakeSink = field(default_factory=FakeSink)

    def engine(self, state: StateConfig | None = None) -> Engine:
        shard = ShardConfig(type="fake")
        config = LoadedConfig(
            Path("test.toml"),
            SyncdConfig(shards={"crm": shard}, state=state or StateConfig()),
            {"crm": Shard("crm", shard, FakeSettings(events_file="-", remote_db="-"))},
        )
        conn = Connector(source=self.source, directory=self.directory, sink=self.sink)
        engine = Engine(config, self.store, {"crm": conn}, clock=self.clock)
        epoch = self.store.acquire_shard("crm", "me", 60)
        assert epoch is not None
        engine.epochs["crm"] = epoch
        return engine

    def add(self, *events: RejectionEvent) -> None:
        self.source.events.extend(events)
        for e in events:
            self.directory.people[e.prospect.ref] = e.prospect


def _rig(url: str) -> Rig:
    clock = Clock()
    return Rig(Store.open(url, clock=clock.ts), clock)


@pytest.fixture
def rig(store_url: str) -> Iterator[Rig]:
    r = _rig(store_url)
    yield r
    r.store.close()


def _opt_out(n: int, minutes: int) -> RejectionEvent:
    base = rejection(n)
    at = base.occurred_at + timedelta(minutes=minutes)
    return replace(
        base,
        event_id=f"reply:{n}:{minutes}",
        source=SourceKind.REPLY,
        occurred_at=at,
        position=at.isoformat(),
        reply=ReplyInfo(
            Intent.OPT_OUT,
            f"<{n}.{minutes}@x>",
            f"t{n}",
            opt_out_channels=frozenset({Channel.EMAIL}),
        ),
    )


def _again(n: int, minutes: int, reason: str) -> RejectionEvent:
    base = rejection(n)
    at = base.occurred_at + timedelta(minutes=minutes)
    return replace(
        base,
        event_id=f"again:{n}:{minutes}",
        occurred_at=at,
        position=at.isoformat(),
        reason_raw=reason,
    )


def _state(store: Store) -> dict[str, Any]:
    """Everything a decision leaves behind, without times and row ids."""
    with store.engine.connect() as conn:
        return {
            "plans": sorted(
                (r.key, r.status, r.generation, r.callback_on, r.reviewed_on)
                for r in conn.execute(
                    sa.select(t.plans, t.prospects.c.key).join(
                        t.prospects, t.prospects.c.id == t.plans.c.prospect
                    )
                )
            ),
            "touches": sorted(
                (r.key, r.generation, r.seq, r.state, r.due, r.note, str(r.touch))
                for r in conn.execute(
                    sa.select(t.touches, t.prospects.c.key, t.plans.c.generation)
                    .join(t.plans, t.plans.c.id == t.touches.c.plan)
                    .join(t.prospects, t.prospects.c.id == t.plans.c.prospect)
                )
            ),
            "suppressions": sorted(
                (r.prospect_key, r.channel, r.source)
                for r in conn.execute(sa.select(t.suppressions))
            ),
            "prospects": sorted(
                (r.key, r.outcome, str(r.snapshot)) for r in conn.execute(sa.select(t.prospects))
            ),
            "events": sorted(r.event_id for r in conn.execute(sa.select(t.events))),
            "audit": sorted(
                (r.kind, r.subject, str(r.data)) for r in conn.execute(sa.select(t.audit))
            ),
            "outbox": sorted(
                (r.key, r.status, r.prospect_key) for r in conn.execute(sa.select(t.outbox))
            ),
        }


def test_a_page_persisted_at_once_equals_one_decision_at_a_time(store_url: str) -> None:
    """A page whose people recur (nurture, then an opt-out, then a new no, in one page) leaves
    exactly the state that committing its decisions one at a time leaves, on SQLite and
    PostgreSQL: plans superseded, touches cancelled, suppressions and audit alike."""
    events = [rejection(n) for n in range(6)]
    events += [_opt_out(1, 3), _again(2, 4, "Budget"), _opt_out(2, 5), _again(3, 6, "Competitor")]
    events += [_again(3, 7, "Timing")]
    rig = _rig(store_url)
    rig.source.page_size = 100
    rig.add(*events)
    pages: list[tuple[Any, ...]] = []
    commit = rig.store.commit_page

    def recording(*args: Any) -> None:
        pages.append(args)
        commit(*args)

    rig.store.commit_page = recording  # type: ignore[method-assign,assignment]
    engine = rig.engine()
    # the read phase alone: what the page's commit wrote, before any materialisation
    engine._read("crm", engine.connectors["crm"], engine.epochs["crm"], CycleSummary("crm"))
    batched = _state(rig.store)
    rig.store.close()
    _wipe(store_url)

    single = _rig(store_url)
    epoch = single.store.acquire_shard("crm", "me", 60)
    assert epoch is not None and len(pages) == 1
    shard, _, cursor, decided, *_ = pages[0]  # and the page's re-engagements (none)
    for item in decided:
        single.store.commit_page(shard, epoch, cursor, [item])
    one_by_one = _state(single.store)
    single.store.close()
    assert batched == one_by_one
    assert any(status == "superseded" for _, status, *_ in batched["plans"])
    assert any(state == "cancelled" for _, _, _, state, *_ in batched["touches"])
    assert batched["suppressions"], "the opt-outs were recorded"


def _wipe(store_url: str) -> None:
    from tests.conftest import _reset_pg

    if store_url.startswith("postgresql"):
        _reset_pg(store_url)
    else:
        Path(store_url.split("///", 1)[1]).unlink()


def test_retention_drops_old_audit_and_done_writes_but_never_resends(rig: Rig) -> None:
    """Done writes leave the outbox after outbox_retention_days and audit rows after
    audit_retention_days; the touches stay written, so nothing goes out twice."""
    rig.add(*(rejection(n) for n in range(3)))
    state = StateConfig(audit_retention_days=30, outbox_retention_days=10)
    first = rig.engine(state).cycle("crm")
    assert first.writes["ok"] == 3

    def count(table: sa.Table, where: Any = None) -> int:
        where = sa.true() if where is None else where
        with rig.store.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar()
                or 0
            )

    done = t.outbox.c.status == "done"
    assert count(t.outbox, done) == 3
    rig.clock.now = NOW + timedelta(days=11)
    later = rig.engine(state).cycle("crm")
    assert later.purged >= 3
    assert count(t.outbox, done & (t.outbox.c.updated_at < NOW.timestamp() + 86_400)) == 0
    assert count(t.audit, t.audit.c.at < NOW.timestamp() + 86_400) > 0  # audit kept 30 days
    rig.clock.now = NOW + timedelta(days=31)
    rig.engine(state).cycle("crm")
    assert count(t.audit, t.audit.c.at < NOW.timestamp() + 86_400) == 0
    keys = [w.key for w in rig.sink.writes]
    assert len(keys) == len(set(keys)), "no write was sent twice"


def test_retention_zero_keeps_everything(rig: Rig) -> None:
    """0 days keeps audit rows and done writes forever."""
    rig.add(rejection(1))
    state = StateConfig(audit_retention_days=0, outbox_retention_days=0)
    rig.engine(state).cycle("crm")
    rig.clock.now = NOW + timedelta(days=3000)
    assert rig.engine(state).cycle("crm").purged == 0


def _peak_kib(tmp_path: Path, n: int) -> float:
    """Peak traced memory of one backfill of n stale rejections (no write is due)."""
    rig = _rig(f"sqlite:///{tmp_path / f'state-{n}.db'}")
    rig.source.page_size = 100
    old = NOW - timedelta(days=60)  # too old for a thank-you: only plans, no writes
    rig.add(*(rejection(i, at=old + timedelta(minutes=i)) for i in range(n)))
    engine = rig.engine()
    gc.collect()
    tracemalloc.start()
    try:
        summary = engine.cycle("crm")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        rig.store.close()
    assert summary.events == n
    return peak / 1024


def test_a_backfill_runs_in_memory_that_does_not_grow_with_its_size(tmp_path: Path) -> None:
    """Four times the records take about the same peak memory: pages stream through."""
    _peak_kib(tmp_path, 20)  # warm up: modules the first cycle imports are not the backfill
    small = _peak_kib(tmp_path, 150)
    large = _peak_kib(tmp_path, 600)
    assert large < small * 1.5, (small, large)
