"""One fake CRM shard (source, directory, sink) over a real store, on the test's clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from syncd.config import LoadedConfig, Shard, ShardConfig, SyncdConfig
from syncd.connectors import Connector
from syncd.engine import Engine
from syncd.model import RejectionEvent
from syncd.policy.config import PolicyConfig
from syncd.store import Store
from syncd.testing.fakes import FakeDirectory, FakeSink, FakeSource
from syncd.testing.plugin import FakeSettings
from tests.conftest import Clock


@dataclass
class World:
    store: Store
    clock: Clock
    source: FakeSource = field(default_factory=FakeSource)
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    sink: FakeSink = field(default_factory=FakeSink)

    def engine(
        self, *, dry_run: bool = False, owner: str = "me", policy: PolicyConfig | None = None
    ) -> Engine:
        shard = ShardConfig(type="fake")
        config = LoadedConfig(
            Path("test.toml"),
            SyncdConfig(shards={"crm": shard}, policy=policy or PolicyConfig()),
            {"crm": Shard("crm", shard, FakeSettings(events_file="-", remote_db="-"))},
        )
        conn = Connector(source=self.source, directory=self.directory, sink=self.sink)
        engine = Engine(
            config,
            self.store,
            {"crm": conn},
            clock=self.clock,
            dry_run=dry_run,
        )
        if not dry_run:
            epoch = self.store.acquire_shard("crm", owner, 60)
            assert epoch is not None
            engine.epochs["crm"] = epoch
        return engine

    def add(self, *events: RejectionEvent) -> None:
        self.source.events.extend(events)
        for e in events:
            self.directory.people[e.prospect.ref] = e.prospect


def open_world(store_url: str, store_type: type[Store] = Store) -> World:
    """A world at NOW whose store runs on the same clock."""
    clock = Clock()
    return World(store_type.open(store_url, clock=clock.ts), clock)
