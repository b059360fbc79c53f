"""Packed state (schema 10): JSON columns are stored compressed, read back as the codec wrote
them whichever way they were written or read, and a schema 9 database (JSON text) upgrades
without rewriting a row and reads the same."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.model import Cursor, History
from syncd.policy import decide
from syncd.policy.config import PolicyConfig
from syncd.store import Store, lookup
from syncd.store import schema as t
from syncd.store.bulk import execute_rows
from syncd.store.codec import dumps, loads
from syncd.store.database import create_db_engine, migrate
from syncd.store.packed import MAX_VALUE_BYTES, PackedJSON, UnreadableValue, pack, unpack
from syncd.store.reads import fetch
from tests.conftest import NOW, rejection
from tests.unit import schema9
from tests.unit.test_lean_state import _read_all

TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
COLUMNS = ("snapshot", "payload", "context", "rules", "touch", "data", "spec", "hold")
PACKED = (
    (t.prospects, "snapshot"),
    (t.events, "payload"),
    (t.plans, "context"),
    (t.touches, "touch"),
    (t.audit, "data"),
)


@settings(max_examples=300, deadline=None)
@given(column=st.sampled_from([*COLUMNS, "attribution"]), value=JSON)
def test_every_value_unpacks_as_the_codec_wrote_it(column: str, value: Any) -> None:
    assert unpack(column, pack(column, value)) == loads(dumps(value))


def _plan(n: int, rules: Any, context: Any) -> dict[str, Any]:
    return {
        "prospect": n,
        "shard": "crm",
        "generation": 1,
        "status": "live",
        "created_at": float(n),
        "callback_on": None,
        "rules": rules,
        "context": context,
        "brief": None,
        "reviewed_on": "2026-12-06",
    }


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.tuples(JSON, JSON), min_size=1, max_size=5))
def test_values_read_back_the_same_through_every_path(
    store: Store, values: list[tuple[Any, Any]]
) -> None:
    """Written row by row through SQLAlchemy or in bulk, read through SQLAlchemy or `fetch`
    (one JSON array on PostgreSQL): the values the codec wrote, decoded."""
    rows = [_plan(n, rules, context) for n, (rules, context) in enumerate(values)]
    expected = [(loads(dumps(rules)), loads(dumps(context))) for rules, context in values]
    stmt = sa.select(t.plans.c.rules, t.plans.c.context).order_by(t.plans.c.created_at)
    for write in ("execute", "bulk"):
        with store.engine.begin() as conn:
            conn.execute(t.plans.delete())
            if write == "bulk":
                execute_rows(conn, t.plans.insert(), rows)
            else:
                conn.execute(t.plans.insert(), rows)
        with store.engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(stmt)] == expected, write
            assert [tuple(r) for r in fetch(conn, stmt)] == expected, write


def test_a_value_that_cannot_be_read_says_which_column() -> None:
    """A byte naming no known dictionary, or a frame claiming more than a value may hold,
    fails with an error instead of a wrong value or a huge allocation."""
    with pytest.raises(UnreadableValue, match="touch"):
        unpack("touch", b"\x1f" + pack("touch", {"kind": "call"})[1:])
    frame = zstandard.ZstdCompressor(
        compression_params=zstandard.ZstdCompressionParameters.from_level(
            3, format=zstandard.FORMAT_ZSTD1_MAGICLESS, write_content_size=True
        )
    ).compress(b" " * (MAX_VALUE_BYTES + 1))
    with pytest.raises(UnreadableValue, match="touch: a stored value claims more"):
        unpack("touch", b"\x04" + frame)
    huge = {"quote": "x" * MAX_VALUE_BYTES}  # stored as plain JSON: still readable
    assert unpack("payload", pack("payload", huge)) == huge


def _decide(store: Store, numbers: range) -> list[str]:
    epoch = store.acquire_shard("crm", "me", 60)
    assert epoch is not None
    events = [rejection(n, opted_out=frozenset()) for n in numbers]
    store.commit_page(
        "crm",
        epoch,
        Cursor(f"c{numbers.start}"),
        [
            (e, decide(e, History(), PolicyConfig(), NOW), {"opportunity_id": e.opportunity_id})
            for e in events
        ],
    )
    return [e.prospect.ref.key for e in events]


def _as_schema_9(url: str) -> None:
    """Rebuild the database the way schema 9 created and filled it: the same rows, every JSON
    column declared and stored as JSON text."""
    engine = create_db_engine(url)
    with engine.connect() as conn:
        rows = {
            table.name: [dict(r._mapping) for r in conn.execute(table.select())]
            for table in t.metadata.sorted_tables
        }
    old = sa.MetaData()
    for table in t.metadata.sorted_tables:
        for column in table.to_metadata(old).columns:
            if isinstance(column.type, PackedJSON):
                column.type = sa.JSON()
    with engine.begin() as conn:
        t.metadata.drop_all(conn)
        old.create_all(conn)
        for table in old.sorted_tables:
            if rows[table.name]:
                conn.execute(table.insert(), rows[table.name])
        conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 10"))
        schema9.to_schema_9(conn)  # people and plans keyed by text, as schema 9 had them
        if conn.dialect.name == "postgresql":
            for name in ("audit", "dead_letters", "reviews"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                    )
                )
    engine.dispose()


def _stored(url: str, table: sa.Table, column: str) -> list[Any]:
    """The column's values as the database holds them (no type applied)."""
    engine = create_db_engine(url)
    with engine.connect() as conn:
        values = list(conn.execute(sa.text(f"SELECT {column} FROM {table.name}")).scalars())  # noqa: S608
    engine.dispose()
    return values


def test_a_version_9_database_upgrades_and_reads_the_same(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 10 rewrites no row (and 11 copies them as they are): JSON text written
    before reads as it did (history, due touches, `syncd explain`, a search by e-mail), and
    rows written after are packed."""
    store = Store.open(store_url)
    old_keys = _decide(store, range(3))
    before = _read_all(store, old_keys)
    store.close()
    _as_schema_9(store_url)
    for table, column in PACKED:
        assert all(isinstance(v, str | dict) for v in _stored(store_url, table, column))

    engine = create_db_engine(store_url)
    assert migrate(engine) == [10, 11]
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            kinds = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("touches")}
        assert isinstance(kinds["touch"], sa.LargeBinary)
    engine.dispose()

    store = Store.open(store_url)
    assert _read_all(store, old_keys) == before
    new_keys = _decide(store, range(10, 13))
    monkeypatch.setattr(lookup, "EMAIL_SCAN_BATCH", 2)  # old and new rows over several batches
    assert store.find_prospects("P1@Example.com") == [old_keys[1]]
    assert store.find_prospects("p11@example.com") == [new_keys[1]]
    assert store.find_prospects("nobody@example.com") == []
    with store.engine.connect() as conn:
        decoded = {
            (table.name, column): [
                dumps(v).encode()
                for v in conn.execute(sa.select(table.c[column]).order_by(*table.primary_key))
                .scalars()
                .all()
            ]
            for table, column in PACKED
        }
    store.close()
    for table, column in PACKED:
        raw = sorted(_stored(store_url, table, column), key=lambda v: isinstance(v, bytes))
        packed = [bytes(v) for v in raw if isinstance(v, bytes | memoryview)]
        plain = [v for v in raw if isinstance(v, str)]
        if store_url.startswith("sqlite"):  # old rows stay TEXT beside the packed ones
            assert plain, (table.name, column)
        assert packed, (table.name, column)
        texts = decoded[(table.name, column)]
        for value in packed:
            if value[:1] not in (b"{", b"["):  # PostgreSQL's converted old rows are JSON text
                assert value[0] < 0x20, (table.name, column)
        new = [v for v in packed if v[0] < 0x20]
        assert len(new) >= 3, (table.name, column)
        assert max(map(len, new)) < min(map(len, texts)), (table.name, column)
