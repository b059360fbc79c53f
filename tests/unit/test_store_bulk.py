"""Rows written through the store's bulk path read back exactly as through SQLAlchemy, on
SQLite and PostgreSQL: JSON of any shape, NULLs, bytes, and an upsert's own constants."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.store import Store
from syncd.store import schema as t
from syncd.store.bulk import execute_rows
from syncd.store.changes import upsert

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _touch(n: int, touch: Any, state: str = "planned") -> dict[str, Any]:
    return {
        "plan": n,
        "seq": 0,
        "shard": "crm",
        "due": "2027-01-04",
        "state": state,
        "touch": {"payload": touch, "subject": 'Ünïcode "quoted" \\ back'},
        "outbox_key": None,
        "note": None,
        "owner_id": "005X",
    }


def _read(store: Store) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(t.touches).order_by(t.touches.c.plan))]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payloads=st.lists(JSON, min_size=1, max_size=6))
def test_bulk_rows_read_back_as_sqlalchemy_writes_them(store: Store, payloads: list[Any]) -> None:
    rows = [_touch(n, p) for n, p in enumerate(payloads)]
    with store.engine.begin() as conn:
        conn.execute(t.touches.delete())
        conn.execute(t.touches.insert(), rows)
    expected = _read(store)
    with store.engine.begin() as conn:
        conn.execute(t.touches.delete())
        execute_rows(conn, t.touches.insert(), rows)
    assert _read(store) == expected


def test_an_upsert_keeps_its_condition(store: Store) -> None:
    """The ON CONFLICT ... WHERE constant travels with the rows: a materialised touch is
    left as it is, a planned one is replaced, a new one is added."""
    with store.engine.begin() as conn:
        execute_rows(conn, t.touches.insert(), [_touch(1, "a", "materialised"), _touch(2, "b")])
        upsert(
            conn,
            t.touches,
            [_touch(1, "new"), _touch(2, "new"), _touch(3, "new")],
            ["plan", "seq"],
            where=t.touches.c.state != "materialised",
        )
    rows = {r[0]: r for r in _read(store)}
    assert rows[1][4] == "materialised"
    assert rows[1][5]["payload"] == "a"
    assert rows[2][5]["payload"] == "new"
    assert rows[3][5]["payload"] == "new"


def test_plan_briefs_as_bytes_and_no_rows_at_all(store: Store) -> None:
    with store.engine.begin() as conn:
        execute_rows(conn, t.plans.insert(), [])
        execute_rows(
            conn,
            t.plans.insert(),
            [
                {
                    "prospect": 1,
                    "shard": "crm",
                    "generation": 1,
                    "status": "live",
                    "created_at": 1.5,
                    "callback_on": None,
                    "rules": ["fit.ok"],
                    "context": {},
                    "brief": b"\x00\xffbytes",
                    "reviewed_on": "2026-12-06",
                }
            ],
        )
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(t.plans)).one()
    assert row.rules == ["fit.ok"] and row.context == {} and bytes(row.brief) == b"\x00\xffbytes"
