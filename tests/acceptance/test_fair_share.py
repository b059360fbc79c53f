"""Several daemons on one PostgreSQL store split the shards between them: one started later
gets its share from the one that took everything, and a survivor takes all back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncd.config import load_config
from syncd.runtime import runtime
from syncd.testing.plugin import write_events

pytestmark = pytest.mark.postgres
SHARDS = ["crm1", "crm2", "crm3", "crm4"]


def _config(tmp_path: Path, url: str) -> Path:
    events = tmp_path / "events.jsonl"
    write_events(events, [])
    sections = "".join(
        f'[shards.{name}]\ntype = "fake"\nevents_file = "{events}"\n'
        f'remote_db = "{tmp_path / name}.db"\n'
        for name in SHARDS
    )
    path = tmp_path / "syncd.toml"
    path.write_text(f'[state]\nurl = "{url}"\n[engine]\nlag_s = 0\n{sections}')
    return path


def _until_sessions(url: str, wanted: int) -> None:
    """Wait until exactly `wanted` daemons are connected: a closed connection's server
    process leaves `pg_stat_activity` a moment after the client has gone (longer on a busy
    machine), and until then it still counts as a live instance."""
    engine = sa.create_engine(url)
    count = (
        "SELECT count(DISTINCT application_name) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name LIKE 'syncd-daemon:%'"
    )
    try:
        with engine.connect() as conn:
            deadline = time.monotonic() + 30
            while conn.execute(sa.text(count)).scalar_one() != wanted:
                assert time.monotonic() < deadline, f"not {wanted} daemon(s) connected"
                time.sleep(0.05)
    finally:
        engine.dispose()


def _no_other_daemons(url: str) -> None:
    """End the sessions daemons of earlier tests left in the shared test database (a killed
    process's session lingers until the server notices), and wait until they are gone."""
    engine = sa.create_engine(url)
    others = (
        "FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name LIKE 'syncd-daemon:%'"
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f"SELECT pg_terminate_backend(pid) {others}"))
            deadline = time.monotonic() + 30
            while conn.execute(sa.text(f"SELECT count(*) {others}")).scalar_one():
                assert time.monotonic() < deadline, "sessions of earlier daemons stay"
                time.sleep(0.05)
    finally:
        engine.dispose()


@pytest.fixture
def own_database(pg_database_url: str) -> Iterator[str]:
    """A database of its own: daemons that other tests start (and that may outlive them for
    a moment) count as instances in the shared one."""
    name = f"syncd_fair_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_database_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_later_daemon_gets_its_share_and_a_survivor_takes_all(
    tmp_path: Path, own_database: str
) -> None:
    """A alone holds all four shards; with B connected, A hands two over at its next renewal
    and B takes them; once B has gone, A takes them back."""
    _no_other_daemons(own_database)
    config = load_config(_config(tmp_path, own_database), check_secrets=True)
    with runtime(config, instance="host-a:1") as a:
        assert sorted(a.acquire()) == SHARDS
        with runtime(config, instance="host-b:2") as b:
            assert b.acquire() == []  # all held: nothing to take yet
            kept = a.acquire()
            assert len(kept) == 2 and sorted(a.handed_over) == sorted(set(SHARDS) - set(kept))
            taken = b.acquire()
            assert sorted(taken) == sorted(a.handed_over)
            assert a.acquire() == kept and b.acquire() == taken  # stable once split
        _until_sessions(own_database, 1)
        assert sorted(a.acquire()) == SHARDS  # B released its leases when it stopped
