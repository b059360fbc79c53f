"""The people, events, plans and touches tables as schema 9 laid them out (people and plans
keyed by text, touches with the person's and account's keys), for tests that build an older
database to upgrade."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncd.store.packed import unpack

_old = sa.MetaData()

prospects = sa.Table(
    "prospects",
    _old,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("shard", sa.String(200), nullable=False),
    sa.Column("account_key", sa.String(300), index=True),
    sa.Column("outcome", sa.String(40)),
    sa.Column("snapshot", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

events = sa.Table(
    "events",
    _old,
    sa.Column("shard", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(300), primary_key=True),
    sa.Column("prospect_key", sa.String(300), nullable=False, index=True),
    sa.Column("occurred_at", sa.Float, nullable=False),
    sa.Column("processed_at", sa.Float, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
)

plans = sa.Table(
    "plans",
    _old,
    sa.Column("plan_id", sa.String(320), primary_key=True),
    sa.Column("prospect_key", sa.String(300), nullable=False, index=True),
    sa.Column("shard", sa.String(200), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("callback_on", sa.String(10)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("context", sa.JSON, nullable=False),
    sa.Column("reviewed_on", sa.String(10)),
    sa.Column("brief", sa.LargeBinary),
    sa.Index("ix_plans_review", "shard", "status", "reviewed_on", "plan_id"),
)

touches = sa.Table(
    "touches",
    _old,
    sa.Column("plan_id", sa.String(320), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("shard", sa.String(200), nullable=False),
    sa.Column("prospect_key", sa.String(300), nullable=False),
    sa.Column("account_key", sa.String(300)),
    sa.Column("due", sa.String(10), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("touch", sa.JSON, nullable=False),
    sa.Column("outbox_key", sa.String(64)),
    sa.Column("note", sa.String(200)),
    sa.Column("owner_id", sa.String(200)),
    sa.Index("ix_touches_due", "shard", "state", "due"),
    sa.Index("ix_touches_owner_due", "owner_id", "due"),
)


_JSON_COLUMNS = frozenset({"snapshot", "payload", "rules", "context", "touch"})


def _rows(conn: Connection, table: str) -> list[dict[str, Any]]:
    """A table's rows as the store wrote them, JSON columns decoded whether they hold JSON
    (the database's or as text) or packed values."""
    out = []
    for r in conn.execute(sa.text(f"SELECT * FROM {table}")):  # noqa: S608  (fixed names)
        row = dict(r._mapping)
        for name in _JSON_COLUMNS & row.keys():
            value = row[name]
            if isinstance(value, str | bytes | memoryview):
                row[name] = unpack(name, bytes(value) if isinstance(value, memoryview) else value)
        out.append(row)
    return out


def to_schema_9(conn: Connection) -> None:
    """Rebuild the people, events, plans and touches tables in schema 9's layout, rows and
    all, and forget every migration from 10 on (so the next open runs them)."""
    people: list[dict[str, Any]] = []
    keys: dict[int, str] = {}
    for row in _rows(conn, "prospects"):
        keys[row.pop("id")] = row["key"]
        people.append(row)
    old_events = []
    for row in _rows(conn, "events"):
        old_events.append({**row, "prospect_key": keys[row.pop("prospect")]})
    old_plans: list[dict[str, Any]] = []
    ids: dict[int, str] = {}
    for row in _rows(conn, "plans"):
        key = keys[row.pop("prospect")]
        ids[row.pop("id")] = plan_id = f"{key}#{row['generation']}"
        old_plans.append({**row, "plan_id": plan_id, "prospect_key": key})
    accounts = {p["key"]: p["account_key"] for p in people}
    old_touches = []
    for row in _rows(conn, "touches"):
        plan_id = ids[row.pop("plan")]
        key = plan_id.rsplit("#", 1)[0]
        old_touches.append(
            {**row, "plan_id": plan_id, "prospect_key": key, "account_key": accounts.get(key)}
        )
    for name in ("touches", "plans", "events", "prospects"):
        conn.execute(sa.text(f"DROP TABLE {name}"))
    for old, rows in (
        (prospects, people),
        (events, old_events),
        (plans, old_plans),
        (touches, old_touches),
    ):
        old.create(conn)
        if rows:
            conn.execute(old.insert(), rows)
    conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 10"))
