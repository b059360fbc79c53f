"""Which touches belong to some people, or to some accounts, without indexes of their own.

The touches table is the largest one, so it keeps neither the person's nor the account's key
and is indexed only by plan and seq, by due day and by owner (schema 10). A person's touches
are those of their plans, an account's those of its people's plans: the plans are looked up
first (through the plans' and prospects' indexes), then the touches by their plan's id. One
query with a sub-select instead lets PostgreSQL hash-join the whole touches table.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncd.store import schema as t
from syncd.store.reads import among, fetch


def plans_of(conn: Connection, keys: list[str]) -> dict[int, str]:
    """Every plan of these people (whatever its status): plan id -> prospect key."""
    rows = fetch(
        conn,
        sa.select(t.plans.c.id, t.plans.c.prospect_key).where(
            among(conn, t.plans.c.prospect_key, keys)
        ),
    )
    return {r.id: r.prospect_key for r in rows}


def plans_at(conn: Connection, account_keys: list[str]) -> dict[int, tuple[str, str]]:
    """The plans of the people now at these accounts: plan id -> (prospect key, account key)."""
    rows = fetch(
        conn,
        sa.select(t.plans.c.id, t.plans.c.prospect_key, t.prospects.c.account_key)
        .join(t.prospects, t.prospects.c.key == t.plans.c.prospect_key)
        .where(among(conn, t.prospects.c.account_key, account_keys)),
    )
    return {r.id: (r.prospect_key, r.account_key) for r in rows}


def touches_of(conn: Connection, keys: list[str]) -> sa.ColumnElement[bool]:
    """The touches of these people (every plan of theirs, whatever its status)."""
    return among(conn, t.touches.c.plan, list(plans_of(conn, keys)))


def touches_at(conn: Connection, account_keys: list[str]) -> sa.ColumnElement[bool]:
    """The touches planned at these accounts (by people who are still at them)."""
    return among(conn, t.touches.c.plan, list(plans_at(conn, account_keys)))
