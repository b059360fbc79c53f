"""Shared pieces of the chaos suite: instances on one PostgreSQL store, counting by key.

Every scenario ends the same way: each touch the outbox holds is in the remote system exactly
once (no duplicate) and every one of them is there (no loss). `SYNCD_CHAOS_SCALE` (default 1)
multiplies the number of prospects for a longer, benchmark-style run.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from syncd.config import LoadedConfig, Shard, ShardConfig, StateConfig, SyncdConfig
from syncd.connectors import Connector
from syncd.engine import Engine
from syncd.model import Cursor, Page
from syncd.runtime import Runtime
from syncd.store import OutboxItem, Store
from syncd.store.packed import unpack
from syncd.testing.fakes import FakeDirectory, FakeSink, FakeSource
from syncd.testing.httpfake import Fault, FaultKind, Request
from syncd.testing.plugin import FakeSettings
from tests.conftest import Clock

SCALE = max(1, int(os.environ.get("SYNCD_CHAOS_SCALE", "1")))
LEASE_S = 60.0


class HookedStore(Store):
    """A store that runs `after_claim` once a claim is committed: where a paused process
    holds a claimed batch it has not sent yet."""

    after_claim: Callable[[], None] = staticmethod(lambda: None)

    def claim(self, sink_shard: str, epoch: int, limit: int) -> list[OutboxItem]:
        items: list[OutboxItem] = super().claim(sink_shard, epoch, limit)
        if items:
            self.after_claim()
        return items


class HookedSource(FakeSource):
    """A source that runs `between_pages` after handing out each page (a long backfill)."""

    def __init__(self, events: Iterable[object] = (), page_size: int = 50):
        super().__init__(events, page_size)  # type: ignore[arg-type]
        self.between_pages: Callable[[], None] = lambda: None

    def read(self, cursor: Cursor | None, until: datetime) -> Iterator[Page]:
        for page in super().read(cursor, until):
            yield page
            self.between_pages()


@dataclass
class Remote:
    """The vendor every instance talks to, shared: one source, directory and sink."""

    source: HookedSource = field(default_factory=lambda: HookedSource(page_size=10))
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    sink: FakeSink = field(default_factory=lambda: FakeSink(batch_size=10, find_grace_s=120.0))

    def add(self, events: Sequence[object]) -> None:
        self.source.events.extend(events)  # type: ignore[arg-type]
        for e in events:
            self.directory.people[e.prospect.ref] = e.prospect  # type: ignore[attr-defined]


def instance(url: str, owner: str, remote: Remote, clock: Clock) -> Runtime:
    """One syncd instance on the shared store and remote, its clock the test's."""
    shard = ShardConfig(type="fake")
    config = LoadedConfig(
        Path("chaos.toml"),
        SyncdConfig(shards={"crm": shard}, state=StateConfig(url=url, lease_s=LEASE_S)),
        {"crm": Shard("crm", shard, FakeSettings(events_file="-", remote_db="-"))},
    )
    store = HookedStore.open(url, clock=clock.ts)
    conn = Connector(source=remote.source, directory=remote.directory, sink=remote.sink)
    engine = Engine(config, store, {"crm": conn}, clock=clock)
    return Runtime(config, store, {"crm": conn}, engine, owner=owner)


def outbox_keys(url: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT key, status FROM outbox")).all())
    finally:
        engine.dispose()


def remote_writes(remote_db: Path) -> list[str]:
    """The keys the file-backed `fake` remote has applied, in order (none before it exists)."""
    if not remote_db.exists():
        return []
    with sqlite3.connect(remote_db) as db:
        try:
            return [k for (k,) in db.execute("SELECT key FROM writes")]
        except sqlite3.OperationalError:
            return []


def start_once(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`syncd once` as its own process, its log appended to `log`: a process a test kills."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "syncd.cli", "--config", str(config), "once"],
            stdout=subprocess.DEVNULL,
            stderr=out,
        )


def duplicates_and_losses(written: Iterable[str], expected: Iterable[str]) -> tuple[int, int]:
    """(writes beyond the first of a key, expected keys never written)."""
    counts = Counter(written)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    losses = len(set(expected) - set(counts))
    return duplicates, losses


def single_shard_engine(
    tmp_path: Path, shard: str, type_name: str, settings: object, conn: Connector
) -> Engine:
    """An engine over one real connector, on a SQLite store, on a clock that `cycle_until`
    moves a minute per cycle (so Retry-After and back-offs pass without waiting)."""
    from datetime import UTC

    from pydantic import BaseModel

    from syncd.config import EngineConfig

    assert isinstance(settings, BaseModel)
    core = ShardConfig(type=type_name)
    config = LoadedConfig(
        tmp_path / "chaos.toml",
        SyncdConfig(
            shards={shard: core},
            engine=EngineConfig(lag_s=0, retry_base_s=0.001, retry_max_s=0.01, max_attempts=50),
        ),
        {shard: Shard(shard, core, settings)},
    )
    clock = Clock(datetime.now(UTC))
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock=clock.ts)
    engine = Engine(config, store, {shard: conn}, clock=clock)
    epoch = store.acquire_shard(shard, "chaos", 86400)
    assert epoch is not None
    engine.epochs[shard] = epoch
    return engine


def cycle_until(engine: Engine, shard: str, done: Callable[[], bool], cycles: int = 30) -> int:
    """Run cycles (a failed one is retried, as the daemon does) until `done`; returns how
    many cycles failed with a retriable error."""
    from syncd.connectors import RetriableError

    failed = 0
    for _ in range(cycles):
        try:
            engine.cycle(shard)
        except RetriableError:
            failed += 1
        if done():
            return failed
        clock = engine.clock
        assert isinstance(clock, Clock)
        clock.advance(60)
    raise AssertionError(f"not settled after {cycles} cycles ({failed} failed)")


class Gate(Fault):
    """Holds the `nth` request whose path matches `wanted` (once `ready()`) until `released`,
    then lets it through unchanged (it never answers instead of the org)."""

    def __init__(self, wanted: str, nth: int = 1, ready: Callable[[], bool] = lambda: True) -> None:
        super().__init__(FaultKind.STATUS, times=10**9)
        self.wanted, self.nth, self.ready = wanted, nth, ready
        self.reached, self.released = threading.Event(), threading.Event()

    def matches(self, req: Request) -> bool:
        if not self.reached.is_set() and re.search(self.wanted, req.path) and self.ready():
            self.nth -= 1
            if self.nth == 0:
                self.reached.set()
                self.released.wait(60)
        return False


def kill_at(proc: subprocess.Popen[bytes], gate: Gate, url: str) -> None:
    """SIGKILL once `gate` holds a request; then the lease the process held lapses (on
    PostgreSQL a restart would otherwise wait it out, as another instance must)."""
    while not gate.reached.wait(0.05):
        assert proc.poll() is None, "the process ended before the gate"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    gate.released.set()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE shards SET lease_until = 0"))
    finally:
        engine.dispose()


def decisions(url: str) -> Counter[str]:
    """How many times each event (its `source`) was decided, by the audit log."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT data FROM audit WHERE kind = 'decision'")).all()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # not migrated yet
        return Counter()
    finally:
        engine.dispose()
    return Counter(unpack("data", d)["source"] for (d,) in rows)
