"""An engine over several real connectors and a SQLite store, for end-to-end tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.config import LoadedConfig, Shard, ShardConfig, SyncdConfig
from syncd.connectors import Connector, Directory
from syncd.engine import CycleSummary, Engine
from syncd.policy.calendar import calendar_of
from syncd.policy.config import PolicyConfig
from syncd.store import Store
from syncd.testing.fakes import FakeSink
from syncd.testing.plugin import FakeSettings


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
    store_clock: Callable[[], float] | None = None,
    lease_s: float = 60,
) -> Wired:
    """One engine owning every shard (core config, connector settings, open connector) for
    `lease_s`; the store runs on `store_clock` (default wall time)."""
    config = LoadedConfig(
        tmp_path / "syncd.toml",
        SyncdConfig(
            shards={name: core for name, (core, _, _) in shards.items()},
            policy=policy or PolicyConfig(),
        ),
        {name: Shard(name, core, settings) for name, (core, settings, _) in shards.items()},
    )
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = Store.open(url, clock=store_clock) if store_clock else Store.open(url)
    connectors = {name: conn for name, (_, _, conn) in shards.items()}
    engine = Engine(config, store, connectors, **({"clock": clock} if clock else {}))
    for name in shards:
        epoch = store.acquire_shard(name, "test", lease_s)
        assert epoch is not None
        engine.epochs[name] = epoch
    return Wired(engine, store)


def fake_crm(directory: Directory, sink: FakeSink) -> tuple[ShardConfig, Any, Connector]:
    """A CRM shard of the fake type for mailbox shards: they match senders in `directory`;
    `sink` records what their replies ask of the CRM."""
    settings = FakeSettings(events_file="-", remote_db="-")
    return ShardConfig(type="fake"), settings, Connector(directory=directory, sink=sink)


@dataclass
class MailboxWired:
    """One mailbox shard behind a fake CRM shard."""

    engine: Engine
    crm_sink: FakeSink
    store: Store
    shards: tuple[str, str]  # the mailbox's, then the CRM's

    def cycle(self) -> None:
        for shard in self.shards:  # the CRM's writes what the mailbox's replies asked of it
            self.engine.cycle(shard)


def wire_mailbox(
    tmp_path: Path,
    mailbox: tuple[str, str, Any, Connector],
    crm_shard: str,
    directory: Directory,
) -> MailboxWired:
    """An engine over a mailbox shard (name, type, settings, open connector) and the fake
    CRM shard `crm_shard` whose people are in `directory`."""
    name, kind, settings, connector = mailbox
    crm_sink = FakeSink()
    wired = wire(
        tmp_path,
        {
            crm_shard: fake_crm(directory, crm_sink),
            name: (ShardConfig(type=kind, crm=crm_shard), settings, connector),
        },
    )
    return MailboxWired(wired.engine, crm_sink, wired.store, (name, crm_shard))


def moment_where_calendars_differ(tz: str, country: str | None) -> tuple[datetime, date]:
    """A fixed moment after now at which a thank-you placed in `tz`'s calendar lands on
    another day than one placed in UTC's, and that day: so a test can tell whose calendar
    placed it."""
    prep = PolicyConfig().prepared

    def ack_day(zone_name: str, moment: datetime) -> date:
        cal = calendar_of(zone_name, country, prep.weekend, prep.extra_holidays)
        assert cal is not None
        return cal.add_business_days(cal.local_date(moment), 1)

    moment = datetime.now(UTC).replace(hour=20, minute=0, second=0, microsecond=0)
    for _ in range(14):
        moment += timedelta(days=1)
        if ack_day(tz, moment) != ack_day("UTC", moment):
            return moment, ack_day(tz, moment)
    raise AssertionError(f"{tz} never differs from UTC")
