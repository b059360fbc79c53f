"""The store's batch reads and key sets give what plain SQLAlchemy gives, on SQLite and
PostgreSQL: the same rows in the same order, with the same values and types, and a key set
matches exactly the keys in it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.store import Store
from syncd.store import schema as t
from syncd.store.bulk import execute_rows
from syncd.store.reads import among, fetch

TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
FLOAT = st.floats(allow_nan=False, allow_infinity=False)


def _plan(n: int, created: float, generation: int, context: Any, brief: bytes | None) -> dict:
    return {
        "prospect": n,
        "shard": "crm",
        "generation": generation,
        "status": "live",
        "created_at": created,
        "callback_on": None,
        "rules": [],
        "context": {"x": context},
        "brief": brief,
        "reviewed_on": "2026-12-06",
    }


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plans=st.lists(
        st.tuples(FLOAT, st.integers(-(2**31), 2**31 - 1), JSON, st.none() | st.binary()),
        max_size=6,
    ),
    shard=TEXT.filter(lambda s: len(s) <= 200),
)
def test_fetch_gives_the_rows_sqlalchemy_gives(
    store: Store, plans: list[tuple[float, int, Any, bytes | None]], shard: str
) -> None:
    """Written through the bulk path or SQLAlchemy's own, read through either."""
    rows = [_plan(n, *p) | {"shard": shard} for n, p in enumerate(plans)]
    columns = [c for c in t.plans.c if c.name != "id"]  # row ids differ between the writes
    stmt = sa.select(*columns).order_by(t.plans.c.created_at.desc(), t.plans.c.prospect)
    with store.engine.begin() as conn:
        conn.execute(t.plans.delete())
        if rows:
            conn.execute(t.plans.insert(), rows)
        expected = [tuple(r) for r in conn.execute(stmt)]
        conn.execute(t.plans.delete())
        execute_rows(conn, t.plans.insert(), rows)
    with store.engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(stmt)] == expected
        got = fetch(conn, stmt)
    assert [tuple(r) for r in got] == expected
    for row, want in zip(got, expected, strict=True):
        assert [type(v) for v in row] == [type(v) for v in want]
        assert row.prospect == want[0] and row.brief == want[-1]


def test_among_matches_exactly_the_keys_given(store: Store) -> None:
    """No key, unknown keys, and a key longer than the column (never cut to a stored one)."""
    long_key = "k" * 300
    with store.engine.begin() as conn:
        execute_rows(
            conn,
            t.prospects.insert(),
            [
                {"key": key, "shard": "crm", "snapshot": {}, "updated_at": 1.0}
                for key in [f"crm:contact:{n}" for n in range(5)] + [long_key]
            ],
        )
        execute_rows(
            conn,
            t.audit.insert(),
            [{"at": 1.0, "shard": "crm", "kind": "k", "subject": None, "data": {}}] * 3,
        )
    column = t.prospects.c.key
    with store.engine.connect() as conn:

        def keys(values: list[str]) -> list[str]:
            rows = fetch(conn, sa.select(column).where(among(conn, column, values)))
            return sorted(r.key for r in rows)

        assert keys([]) == []
        assert keys(["crm:contact:3", "crm:contact:1", "crm:contact:77"]) == [
            "crm:contact:1",
            "crm:contact:3",
        ]
        assert keys([long_key + "k"]) == []
        assert keys([long_key]) == [long_key]
        ids = [r.id for r in fetch(conn, sa.select(t.audit.c.id).order_by(t.audit.c.id))]
        picked = fetch(conn, sa.select(t.audit.c.id).where(among(conn, t.audit.c.id, ids[1:])))
        assert sorted(r.id for r in picked) == ids[1:]
        assert fetch(conn, sa.select(t.audit.c.id).where(t.audit.c.id < 0)) == []
