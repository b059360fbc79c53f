"""Shared fixtures: state stores on SQLite and PostgreSQL, event builders, a fixed clock."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog

import syncd
from syncd.model import (
    Account,
    AccountRef,
    Channel,
    Owner,
    Prospect,
    ProspectRef,
    RejectionEvent,
    SourceKind,
)
from syncd.store import Store

PG_ADMIN_URL = os.environ.get(
    "SYNCD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday


@dataclass
class Clock:
    """Wall time for engines and stores, moved only by the test."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def ts(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def pytest_report_header() -> str:
    return f"syncd {syncd.__version__} ({syncd.__file__})"


def _pg_admin() -> sa.Engine | str:
    """An engine on the test database, or the reason PostgreSQL can't be used."""
    try:
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return engine
    except Exception as exc:  # any failure to reach it means: skip (or fail in CI)
        return f"no PostgreSQL at {PG_ADMIN_URL}: {type(exc).__name__}"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    admin = _pg_admin()
    if isinstance(admin, str):
        if os.environ.get("SYNCD_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL tests are required here but {admin}")
        pytest.skip(admin)
    name = f"syncd_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _reset_pg(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """The state store URL, once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("pg_database_url")
    _reset_pg(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()


def person(
    n: int,
    *,
    shard: str = "crm",
    employees: int | None = 200,
    country: str = "US",
    opted_out: frozenset[Channel] = frozenset(),
    account: str | None = None,
) -> Prospect:
    acct = account or f"A{n:04d}"
    return Prospect(
        ref=ProspectRef(shard, "contact", f"C{n:04d}"),
        account=Account(
            AccountRef(shard, acct), f"Account {acct}", employees, 5e6, "Software", country
        ),
        owner=Owner("005U1", "America/New_York"),
        email=f"p{n}@example.com",
        name=f"Person {n}",
        title="VP Operations",
        department="Operations",
        opted_out=opted_out,
    )


def rejection(n: int, *, at: datetime | None = None, **kw: object) -> RejectionEvent:
    when = at or (NOW - timedelta(days=1) + timedelta(minutes=n))
    return RejectionEvent(
        event_id=f"crm:opp:{n:04d}",
        source=SourceKind.OPPORTUNITY,
        occurred_at=when,
        prospect=person(n, **kw),  # type: ignore[arg-type]
        position=when.isoformat(),
        reason_raw="Timing",
        amount=20000.0,
        opportunity_id=f"O{n:04d}",
    )


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Commands configure logging onto the stream they were given (often a capture that
    closes with its test): start every test from structlog's defaults."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _default_collector() -> Iterator[None]:
    """`syncd once` and `run` tune the garbage collector for the whole process
    (syncd.gctuning): a command run in a test must not change how the tests after it
    collect, or a memory test measures when garbage is collected instead of what is kept."""
    thresholds = gc.get_threshold()
    yield
    if gc.get_threshold() != thresholds:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        gc.collect()


def fake_config(
    tmp_path: Path,
    events: list[RejectionEvent],
    *,
    shard: str = "",
    extra: str = "",
    state_url: str | None = None,
) -> Path:
    """A config running the file-backed `fake` connector over `events`; state and remote in
    `tmp_path` (state.db, remote.db). `shard` adds keys to [shards.crm], `extra` sections."""
    from syncd.testing.plugin import write_events

    events_file = tmp_path / "events.jsonl"
    write_events(events_file, events)
    path = tmp_path / "syncd.toml"
    path.write_text(f"""{extra}
[state]
url = "{state_url or f"sqlite:///{tmp_path / 'state.db'}"}"
[engine]
lag_s = 0
[shards.crm]
type = "fake"
events_file = "{events_file}"
remote_db = "{tmp_path / "remote.db"}"
{shard}
""")
    return path
