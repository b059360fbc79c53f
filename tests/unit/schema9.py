"""The plans and touches tables as schema 9 laid them out (text plan ids, touches with the
person's and account's keys), for tests that build an older database to upgrade."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncd.store import schema as t

_old = sa.MetaData()

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


def to_schema_9(conn: Connection) -> None:
    """Rebuild the plans and touches tables in schema 9's layout, rows and all, and forget
    every migration from 10 on (so the next open runs them)."""
    old_plans: list[dict[str, Any]] = []
    ids: dict[int, str] = {}
    for r in conn.execute(sa.select(t.plans)):
        row = dict(r._mapping)
        ids[row.pop("id")] = plan_id = f"{row['prospect_key']}#{row['generation']}"
        old_plans.append({**row, "plan_id": plan_id})
    accounts = dict(conn.execute(sa.select(t.prospects.c.key, t.prospects.c.account_key)).all())
    old_touches = []
    for r in conn.execute(sa.select(t.touches)):
        row = dict(r._mapping)
        plan_id = ids[row.pop("plan")]
        key = plan_id.rsplit("#", 1)[0]
        old_touches.append(
            {**row, "plan_id": plan_id, "prospect_key": key, "account_key": accounts.get(key)}
        )
    t.touches.drop(conn)
    t.plans.drop(conn)
    plans.create(conn)
    touches.create(conn)
    if old_plans:
        conn.execute(plans.insert(), old_plans)
    if old_touches:
        conn.execute(touches.insert(), old_touches)
    conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 10"))
