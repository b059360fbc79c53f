"""An engine over several real connectors and a SQLite store, for end-to-end tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from syncd.config import LoadedConfig, Shard, ShardConfig, SyncdConfig
from syncd.connectors import Connector
from syncd.engine import CycleSummary, Engine
from syncd.policy.config import PolicyConfig
from syncd.store import Store


@dataclass
class Wired:
    engine: Engine
    store: Store

    def cycle(self, *shards: str) -> list[CycleSummary]:
        return [self.engine.cycle(shard) for shard in shards]

    def close(self) -> None:
        self.store.close()


def wire(
    tmp_path: Path,
    shards: Mapping[str, tuple[ShardConfig, Any, Connector]],
    *,
    policy: PolicyConfig | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Wired:
    """One engine owning every shard (core config, connector settings, open connector)."""
    config = LoadedConfig(
        tmp_path / "syncd.toml",
        SyncdConfig(
            shards={name: core for name, (core, _, _) in shards.items()},
            policy=policy or PolicyConfig(),
        ),
        {name: Shard(name, core, settings) for name, (core, settings, _) in shards.items()},
    )
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    connectors = {name: conn for name, (_, _, conn) in shards.items()}
    engine = Engine(config, store, connectors, **({"clock": clock} if clock else {}))
    for name in shards:
        epoch = store.acquire_shard(name, "test", 60)
        assert epoch is not None
        engine.epochs[name] = epoch
    return Wired(engine, store)
