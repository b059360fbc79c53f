"""People's rows ids, and which plans and touches belong to some people or accounts.

People and plans have integer ids (schema 11): events and plans refer to their person, and
touches to their plan, by id rather than by repeating the person's key. The touches table is
the largest one, so it is indexed only by plan and seq, by due day and by owner. A person's
touches are those of their plans, an account's those of its people's plans: the people and
plans are looked up first (through their own indexes; a batch looks its people up once and
passes them on), then the touches by plan id. One query
with a sub-select instead lets PostgreSQL hash-join the whole touches table.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncd.store import schema as t
from syncd.store.reads import among, fetch


def person_ids(conn: Connection, keys: list[str]) -> dict[str, int]:
    """The prospects row id of each of these people that has one: key -> id."""
    rows = fetch(
        conn,
        sa.select(t.prospects.c.id, t.prospects.c.key).where(among(conn, t.prospects.c.key, keys)),
    )
    return {r.key: r.id for r in rows}


def plans_among(conn: Connection, people: Mapping[str, int]) -> sa.ColumnElement[bool]:
    """The plans of these people (key -> row id, from `person_ids`), whatever their status."""
    return among(conn, t.plans.c.prospect, list(people.values()))


def plans_of(conn: Connection, people: Mapping[str, int]) -> dict[int, str]:
    """Every plan of these people (key -> row id), whatever its status: plan id -> key."""
    keys = {i: k for k, i in people.items()}
    rows = fetch(
        conn,
        sa.select(t.plans.c.id, t.plans.c.prospect).where(plans_among(conn, people)),
    )
    return {r.id: keys[r.prospect] for r in rows}


def plans_at(conn: Connection, account_keys: list[str]) -> dict[int, tuple[str, str]]:
    """The plans of the people now at these accounts: plan id -> (prospect key, account key)."""
    rows = fetch(
        conn,
        sa.select(t.plans.c.id, t.prospects.c.key, t.prospects.c.account_key)
        .join(t.prospects, t.prospects.c.id == t.plans.c.prospect)
        .where(among(conn, t.prospects.c.account_key, account_keys)),
    )
    return {r.id: (r.key, r.account_key) for r in rows}


def touches_of(conn: Connection, people: Mapping[str, int]) -> sa.ColumnElement[bool]:
    """The touches of these people (key -> row id): every plan's, whatever its status."""
    return among(conn, t.touches.c.plan, list(plans_of(conn, people)))


def touches_at(conn: Connection, account_keys: list[str]) -> sa.ColumnElement[bool]:
    """The touches planned at these accounts (by people who are still at them)."""
    return among(conn, t.touches.c.plan, list(plans_at(conn, account_keys)))
