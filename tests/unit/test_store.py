"""The state store on SQLite and PostgreSQL: migrations, leases, history, codec."""

from __future__ import annotations

import dataclasses
import typing
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

import syncd
import syncd.model
from syncd.model import Channel, Cursor, History, Intent, RejectionEvent, ReplyInfo
from syncd.policy import decide
from syncd.policy.config import PolicyConfig
from syncd.store import Store
from syncd.store.codec import decode, dumps, encode, loads
from syncd.store.database import LATEST, create_db_engine, migrate
from tests.conftest import NOW, _reset_pg, rejection
from tests.unit import schema9


def test_migrations_apply_once_and_record_their_version(store_url: str) -> None:
    """Opening twice migrates once; the schema version is recorded."""
    engine = create_db_engine(store_url)
    assert migrate(engine) == list(range(1, LATEST + 1))
    assert migrate(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT MAX(version) FROM schema_version")).scalar() == LATEST
    engine.dispose()


def test_a_newer_schema_is_refused_with_advice(store_url: str) -> None:
    """An older syncd never runs against a database a newer one migrated."""
    engine = create_db_engine(store_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO schema_version VALUES (:v, 0)"), {"v": LATEST + 1})
    with pytest.raises(RuntimeError, match="upgrade syncd or restore"):
        migrate(engine)
    engine.dispose()


@pytest.mark.postgres
def test_postgres_lease_is_exclusive_until_it_expires(pg_database_url: str) -> None:
    """On PostgreSQL a live lease keeps other instances off the shard; expiry hands it over."""
    _reset_pg(pg_database_url)
    now = [1000.0]
    store = Store.open(pg_database_url, clock=lambda: now[0])
    try:
        first = store.acquire_shard("crm", "host-a:1", 60)
        assert first is not None
        assert store.acquire_shard("crm", "host-b:2", 60) is None
        assert store.acquire_shard("crm", "host-a:1", 60) == first  # renewal keeps the epoch
        now[0] += 61
        assert store.acquire_shard("crm", "host-b:2", 60) == first + 1
    finally:
        store.close()


def test_history_returns_rejections_plan_and_suppressions(store: Store) -> None:
    """Everything committed about a prospect comes back as its history (but the source's
    cursor position, which only the cursor row keeps)."""
    from syncd.model import Cursor, History
    from syncd.policy import decide
    from syncd.policy.config import PolicyConfig
    from tests.conftest import NOW

    epoch = store.acquire_shard("crm", "me", 60)
    assert epoch is not None
    event = rejection(1, opted_out=frozenset({Channel.PHONE}))
    decision = decide(event, History(), PolicyConfig(), NOW)
    store.commit_page("crm", epoch, Cursor(event.position), [(event, decision, {"x": 1})])
    hist = store.history([event.prospect.ref.key])[event.prospect.ref.key]
    assert hist.rejections == (dataclasses.replace(event, shard="crm", position=""),)
    assert hist.plan is not None and hist.plan.generation == 1
    assert hist.suppressed == frozenset({Channel.PHONE})
    assert hist.plan_context == {"x": 1}


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 9999),
    amount=st.none() | st.floats(0, 1e9),
    intent=st.sampled_from(Intent),
    channels=st.frozensets(st.sampled_from(Channel)),
    back=st.none() | st.dates(date(2020, 1, 1), date(2035, 1, 1)),
)
def test_events_survive_the_store_codec(
    n: int, amount: float | None, intent: Intent, channels: frozenset[Channel], back: date | None
) -> None:
    """Any event, reply details included, decodes to exactly what was encoded."""
    base = rejection(n)
    event = RejectionEvent(
        **{
            **{f: getattr(base, f) for f in base.__dataclass_fields__},
            "amount": amount,
            "reply": ReplyInfo(
                intent,
                "<m@x>",
                "t",
                opt_out_channels=channels,
                return_date=back,
                evidence=("a", "b"),
            ),
        }
    )
    assert decode(RejectionEvent, encode(event)) == event
    assert decode(RejectionEvent, loads(dumps(encode(event)))) == event


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.text(alphabet=st.sampled_from('a,:"\\{}[]nul fe'), max_size=12), max_size=4),
    quote=st.none() | st.text(max_size=20),
)
def test_the_compact_column_text_keeps_every_string(texts: list[str], quote: str | None) -> None:
    """Strings that look like JSON (quotes, commas, "null") survive the compact column text."""
    base = rejection(1)
    event = dataclasses.replace(
        base,
        quote=quote,
        reason_raw=",".join(texts) or None,
        prospect=dataclasses.replace(base.prospect, title=":".join(texts)),
    )
    assert decode(RejectionEvent, loads(dumps(encode(event)))) == event
    kept = {"k": [*texts, "x"]}
    assert loads(dumps({t: None for t in texts} | kept)) == kept


STORED = (
    syncd.model.RejectionEvent,
    syncd.model.Prospect,
    syncd.model.Account,
    syncd.model.AccountRef,
    syncd.model.ProspectRef,
    syncd.model.Owner,
    syncd.model.ReplyInfo,
    syncd.model.Touch,
    syncd.model.TouchSpec,
    syncd.model.RuleHit,
)


def test_fields_the_compact_encoding_leaves_out_have_that_default() -> None:
    """The store leaves out None and empty values; a field that may hold one must default to
    it, or a stored plan or event would no longer decode as it was."""
    for cls in STORED:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hint = hints[f.name]
            optional = type(None) in typing.get_args(hint)
            collection = typing.get_origin(hint) in (tuple, list, dict, frozenset)
            if f.default_factory is not dataclasses.MISSING:
                assert not f.default_factory(), (cls, f.name)
            elif f.default is not dataclasses.MISSING:
                if optional:
                    assert f.default is None, (cls, f.name)
                if collection:
                    assert not f.default, (cls, f.name)
            else:
                assert not optional and not collection, (cls, f.name)


def test_a_touch_with_empty_values_survives_the_codec() -> None:
    """Defaults left out of a stored touch come back as they were."""
    touch = syncd.model.Touch(
        0,
        syncd.model.TouchKind.CALL,
        date(2030, 1, 2),
        syncd.model.WriteKind.TASK,
        syncd.model.TaskChannel.CALL,
        "",
        "",
        "r",
    )
    stored = loads(dumps(encode(touch)))
    assert decode(syncd.model.Touch, stored) == touch
    assert "suppress_channel" not in stored and "opt_out_channels" not in stored
    assert stored["brief"] == ""


def _undo_migrations_7_and_8(conn: sa.Connection) -> None:
    """Drop what migrations 7 (pauses, shard errors) and 8 (outcomes, touch owners) add."""
    conn.execute(sa.text("DROP TABLE pauses"))
    for column in ("last_error", "last_error_at", "failed_at"):
        conn.execute(sa.text(f"ALTER TABLE shards DROP COLUMN {column}"))
    conn.execute(sa.text("DROP TABLE outcomes"))
    conn.execute(sa.text("DROP INDEX ix_touches_owner_due"))
    conn.execute(sa.text("ALTER TABLE touches DROP COLUMN owner_id"))


def test_a_version_1_database_is_upgraded_in_place(store_url: str) -> None:
    """A database from before plan reviews gains that column, the review holds, the attempt
    times, the plans' shared briefs, the review and retention indexes, the pauses and shard
    errors, the touches' owner and the outcomes, keeping its rows."""
    engine = create_db_engine(store_url)
    migrate(engine)
    with engine.begin() as conn:  # turn it back into what version 1 created
        schema9.to_schema_9(conn)
        conn.execute(sa.text("DROP INDEX ix_plans_review"))
        conn.execute(sa.text("DROP INDEX ix_audit_at"))
        conn.execute(sa.text("ALTER TABLE plans DROP COLUMN brief"))
        conn.execute(sa.text("ALTER TABLE plans DROP COLUMN reviewed_on"))
        conn.execute(sa.text("ALTER TABLE outbox DROP COLUMN attempted_at"))
        conn.execute(sa.text("DROP TABLE reviews"))
        _undo_migrations_7_and_8(conn)
        conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 2"))
        conn.execute(
            sa.text(
                "INSERT INTO plans (plan_id, prospect_key, shard, generation, status, created_at,"
                " rules, context) VALUES ('crm:contact:1#1', 'crm:contact:1', 'crm', 1, 'live', 0,"
                " '[]', '{}')"
            )
        )
    assert migrate(engine) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(  # the plan's person had no row: migration 11 gives them one
                "SELECT p.key, l.generation, l.reviewed_on, l.brief FROM plans l "
                "JOIN prospects p ON p.id = l.prospect"
            )
        ).one()
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("plans")}
        holds = conn.execute(sa.text("SELECT count(*) FROM reviews")).scalar()
        attempts = conn.execute(sa.text("SELECT COUNT(attempted_at) FROM outbox")).scalar()
    assert tuple(row) == ("crm:contact:1", 1, "0001-01-01", None)  # due for review at once
    assert "ix_plans_review" in indexes
    assert holds == 0
    assert attempts == 0
    with engine.connect() as conn:
        outcomes = conn.execute(sa.text("SELECT count(*) FROM outcomes")).scalar()
        owners = conn.execute(sa.text("SELECT count(owner_id) FROM touches")).scalar()
    assert outcomes == owners == 0
    engine.dispose()


def test_a_version_6_database_gains_pauses_and_shard_errors(store_url: str) -> None:
    """Migration 7 adds the pauses table and each shard's last error, keeping shard rows;
    migration 8 then adds the outcomes and the touches' owner."""
    engine = create_db_engine(store_url)
    migrate(engine)
    with engine.begin() as conn:  # turn it back into what version 6 had
        schema9.to_schema_9(conn)
        _undo_migrations_7_and_8(conn)
        conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 7"))
        conn.execute(sa.text("INSERT INTO shards (name, epoch) VALUES ('crm', 4)"))
    assert migrate(engine) == [7, 8, 9, 10, 11]
    engine.dispose()
    store = Store.open(store_url)
    store.record_error("crm", "RetriableError: 503", failed=False)
    assert store.pause("shard", "crm")
    row = store.shard_row("crm")
    assert row is not None and row["epoch"] == 4 and row["last_error"] == "RetriableError: 503"
    assert [p.ref for p in store.pauses()] == ["crm"]
    store.close()


def test_account_touches_are_read_back_only_as_far_as_asked(store: Store) -> None:
    """Old touches at an account stop being loaded for every new event at that account."""
    from datetime import timedelta

    from syncd.model import Cursor, History
    from syncd.policy import decide
    from syncd.policy.config import PolicyConfig
    from tests.conftest import NOW

    epoch = store.acquire_shard("crm", "me", 60)
    assert epoch is not None
    event = rejection(1)
    decision = decide(event, History(), PolicyConfig(), NOW)
    assert decision.plan is not None
    store.commit_page("crm", epoch, Cursor(event.position), [(event, decision, {})])
    account = event.prospect.account
    assert account is not None
    dues = sorted(tc.due for tc in decision.plan.touches)
    everything = store.account_touch_dues([account.ref.key], dues[0])[account.ref.key]
    later = store.account_touch_dues([account.ref.key], dues[-1])[account.ref.key]
    assert len(everything) == len(dues)
    assert [tc.due for _, tc in later] == [d for d in dues if d >= dues[-1]]
    assert store.account_touch_dues([account.ref.key], dues[-1] + timedelta(days=1)) == {}


def test_the_integer_id_migration_keeps_every_event_seen(store_url: str) -> None:
    """Migration 11 copies people, events, plans and touches into their integer-keyed tables:
    every event is still seen (even one whose person row went missing by hand), and each
    touch still belongs to its person's plan."""
    store = Store.open(store_url)
    epoch = store.acquire_shard("crm", "me", 60)
    assert epoch is not None
    pairs = []
    for n in range(3):
        event = rejection(n)
        pairs.append((event, decide(event, History(), PolicyConfig(), NOW), {}))
    store.commit_page("crm", epoch, Cursor("c"), pairs)
    keys = [d.prospect.key for _, d, _ in pairs]
    before = store.history(keys)
    with store.engine.begin() as conn:
        schema9.to_schema_9(conn)
        conn.execute(sa.text("DELETE FROM prospects WHERE key = :k"), {"k": keys[0]})
    store.close()
    engine = create_db_engine(store_url)
    assert migrate(engine) == [10, 11]
    engine.dispose()
    store = Store.open(store_url)
    try:
        assert store.seen("crm", [e.event_id for e, _, _ in pairs]) == {
            e.event_id for e, _, _ in pairs
        }
        after = store.history(keys)
        for key in keys[1:]:
            assert after[key] == before[key]
        assert after[keys[0]].plan == before[keys[0]].plan  # the plan and touches stay whole
        assert [r.event_id for r in after[keys[0]].rejections] == [pairs[0][0].event_id]
    finally:
        store.close()


def test_a_plan_for_a_person_never_stored_gets_a_row_of_its_own(store: Store) -> None:
    """A plan refers to its person's row; a revision for someone whose row is missing (none
    is known to happen) still stores the plan and its touches instead of failing the batch."""
    epoch = store.acquire_shard("crm", "me", 60)
    assert epoch is not None
    event = rejection(7)
    decision = decide(event, History(), PolicyConfig(), NOW)
    assert decision.plan is not None
    store.record_reviews("crm", epoch, NOW.date(), [], [(decision, None, {})])
    stored = store.history([decision.prospect.key])[decision.prospect.key]
    assert stored.plan is not None
    assert sorted(tc.seq for tc in stored.plan.touches) == sorted(
        tc.seq for tc in decision.plan.touches
    )
