"""One local Graph per test module; each test gets its own mailbox on it, wired to a CRM."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncd.config import LoadedConfig, Shard, ShardConfig, SyncdConfig
from syncd.connectors import Connector
from syncd.engine import Engine
from syncd.store import Store
from syncd.testing.fakes import FakeSink
from syncd.testing.plugin import FakeSettings
from syncd_m365.fake import FakeGraph
from syncd_m365.testing import CRM_SHARD, M365Testbed

MAILBOX_SHARD = "m365_rep"


@pytest.fixture(scope="module")
def graph_fake() -> Iterator[FakeGraph]:
    fake = FakeGraph().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def bed(tmp_path: Path, graph_fake: FakeGraph) -> Iterator[M365Testbed]:
    testbed = M365Testbed.start(tmp_path, fake=graph_fake)
    try:
        yield testbed
    finally:
        testbed.stop()


@dataclass
class Wired:
    engine: Engine
    crm_sink: FakeSink
    store: Store

    def cycle(self) -> None:
        self.engine.cycle(MAILBOX_SHARD)
        self.engine.cycle(CRM_SHARD)  # writes what the mailbox's replies asked of the CRM


@pytest.fixture
def wired(bed: M365Testbed, tmp_path: Path) -> Iterator[Wired]:
    crm_core = ShardConfig(type="fake")
    mailbox_core = ShardConfig(type="m365", crm=CRM_SHARD)
    config = LoadedConfig(
        tmp_path / "syncd.toml",
        SyncdConfig(shards={CRM_SHARD: crm_core, MAILBOX_SHARD: mailbox_core}),
        {
            CRM_SHARD: Shard(CRM_SHARD, crm_core, FakeSettings(events_file="-", remote_db="-")),
            MAILBOX_SHARD: Shard(MAILBOX_SHARD, mailbox_core, bed.settings()),
        },
    )
    crm_sink = FakeSink()
    connectors = {
        CRM_SHARD: Connector(directory=bed.directory, sink=crm_sink),
        MAILBOX_SHARD: bed.open(),
    }
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    engine = Engine(config, store, connectors)
    for shard in (CRM_SHARD, MAILBOX_SHARD):
        epoch = store.acquire_shard(shard, "test", 60)
        assert epoch is not None
        engine.epochs[shard] = epoch
    yield Wired(engine, crm_sink, store)
    store.close()
