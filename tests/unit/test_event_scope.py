"""Event ids are unique only within a shard: the store keys them by (shard, id), and the
migration to that key keeps every decision already made."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from syncd.model import Cursor, Decision, Outcome
from syncd.store import Store
from syncd.store.database import LATEST, create_db_engine, migrate
from tests.conftest import rejection
from tests.unit import schema9
from tests.unit.world import open_world


def _downgrade_to_v2(store: Store) -> None:
    """Put the state back the way the previous schema stored it: events keyed by id alone,
    payloads without their shard, plans by text id (schema 9's layout), schema version 2."""
    with store.engine.begin() as conn:
        schema9.to_schema_9(conn)  # plain JSON columns, as schema 2 had them
        old = schema9.events
        rows = conn.execute(sa.select(old.c.event_id, old.c.payload)).all()
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE events DROP CONSTRAINT events_pkey"))
            conn.execute(sa.text("ALTER TABLE events ADD PRIMARY KEY (event_id)"))
        else:
            conn.execute(sa.text("DROP INDEX ix_events_prospect_key"))
            conn.execute(sa.text("ALTER TABLE events RENAME TO events_new"))
            conn.execute(
                sa.text(
                    "CREATE TABLE events (event_id VARCHAR(300) PRIMARY KEY, "
                    "shard VARCHAR(200) NOT NULL, prospect_key VARCHAR(300) NOT NULL, "
                    "occurred_at FLOAT NOT NULL, processed_at FLOAT NOT NULL, "
                    "payload JSON NOT NULL)"
                )
            )
            conn.execute(sa.text("CREATE INDEX ix_events_prospect_key ON events (prospect_key)"))
            conn.execute(
                sa.text(
                    "INSERT INTO events SELECT event_id, shard, prospect_key, occurred_at, "
                    "processed_at, payload FROM events_new"
                )
            )
            conn.execute(sa.text("DROP TABLE events_new"))
        events = sa.table("events", sa.column("event_id"), sa.column("payload", sa.JSON))
        for row in rows:
            payload = dict(row.payload)
            payload.pop("shard", None)
            conn.execute(
                events.update().where(events.c.event_id == row.event_id).values(payload=payload)
            )
        conn.execute(sa.text("DELETE FROM schema_version WHERE version > 2"))


def test_an_upgrade_decides_nothing_again_and_writes_nothing_again(store_url: str) -> None:
    """State written under the old key survives the migration: re-reading every record from
    the start finds each one already decided, so nothing is decided or written twice."""
    world = open_world(store_url)
    world.add(*(rejection(n) for n in range(3)))
    first = world.engine().cycle("crm")
    assert first.decisions == Counter(nurture=3)
    written = list(world.sink.writes)
    _downgrade_to_v2(world.store)
    world.store.close()

    engine = create_db_engine(store_url)
    # 4 (review holds) finds its table, 5 (attempt times) its column, 6 (briefs) its column,
    # 7 (pauses) its table, 8 (outcomes) its table, 9 (lean state) drops indexes if there,
    # 10 (packed JSON) converts the columns, 11 (integer ids) rebuilds people, events, plans
    # and touches: every event stays seen, the touches already written stay so
    assert migrate(engine) == list(range(3, LATEST + 1)) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM cursors"))  # read every record again from the start
    engine.dispose()
    world.store = Store.open(store_url, clock=world.clock.ts)
    try:
        again = world.engine().cycle("crm")
        assert (again.events, again.skipped, again.decisions) == (0, 3, Counter())
        assert world.sink.writes == written
        history = world.store.history([e.prospect.ref.key for e in world.source.events])
        assert {r.identity for h in history.values() for r in h.rejections} == {
            ("crm", e.event_id) for e in world.source.events
        }
    finally:
        world.store.close()


def test_the_same_id_in_another_shard_is_not_seen(store: Store) -> None:
    """An id decided in one shard says nothing about the same id read by another shard."""
    epoch = store.acquire_shard("gmail_a", "me", 60)
    assert epoch is not None
    event = rejection(1)
    decision = Decision(event.event_id, event.prospect.ref, Outcome.IGNORED, None, ())
    store.commit_page("gmail_a", epoch, Cursor("1"), [(event, decision, {})])
    assert store.seen("gmail_a", [event.event_id]) == {event.event_id}
    assert store.seen("gmail_b", [event.event_id]) == set()
