"""Which touches belong to some people, or to some accounts, without indexes of their own.

The touches table is the largest one, so it is indexed only by plan and seq, by due day
and by owner (schema 9). A person's touches are those of their plans, an account's those of
its people's plans: the plan ids are looked up first (through the plans' and prospects'
indexes), then the touches by their key. One query with a sub-select instead lets PostgreSQL
hash-join the whole touches table.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncd.store import schema as t
from syncd.store.reads import among, fetch


def touches_of(conn: Connection, keys: list[str]) -> sa.ColumnElement[bool]:
    """The touches of these people (every plan of theirs, whatever its status)."""
    ids = fetch(conn, sa.select(t.plans.c.plan_id).where(among(conn, t.plans.c.prospect_key, keys)))
    return among(conn, t.touches.c.plan_id, [r.plan_id for r in ids])


def touches_at(conn: Connection, account_keys: list[str]) -> sa.ColumnElement[bool]:
    """The touches planned at these accounts (by people who are still at them)."""
    ids = fetch(
        conn,
        sa.select(t.plans.c.plan_id)
        .join(t.prospects, t.prospects.c.key == t.plans.c.prospect_key)
        .where(among(conn, t.prospects.c.account_key, account_keys)),
    )
    return among(conn, t.touches.c.plan_id, [r.plan_id for r in ids]) & among(
        conn, t.touches.c.account_key, account_keys
    )
