"""Lean state (schema 9): rows store only what their columns don't, and read back whole; rows
written by schema 8 read back the same after the upgrade."""

from __future__ import annotations

import dataclasses
import zlib
from datetime import date
from typing import Any

import sqlalchemy as sa

from syncd.explain import explain
from syncd.model import Cursor, Decision, History, Prospect, RejectionEvent
from syncd.policy import decide
from syncd.policy.config import PolicyConfig
from syncd.store import Store
from syncd.store import schema as t
from syncd.store.codec import encode
from syncd.store.compact import (
    pack_brief,
    pack_plan_id,
    pack_prospect,
    pack_rules,
    pack_touch,
    unpack_brief,
    unpack_plan_id,
    unpack_prospect,
    unpack_rules,
    unpack_touch,
)
from syncd.store.database import create_db_engine, migrate
from tests.conftest import NOW, rejection
from tests.unit import schema9

FAR = date(2099, 1, 1)


def _decided(store: Store, n: int = 3) -> list[tuple[RejectionEvent, Decision]]:
    epoch = store.acquire_shard("crm", "me", 60)
    assert epoch is not None
    pairs = []
    for i in range(n):
        event = rejection(i, opted_out=frozenset())
        pairs.append((event, decide(event, History(), PolicyConfig(), NOW)))
    context = {"source_shard": "crm", "opportunity_id": "O0000"}
    store.commit_page(
        "crm",
        epoch,
        Cursor("c"),
        [(e, d, dict(context, opportunity_id=e.opportunity_id)) for e, d in pairs],
    )
    return pairs


def _seq(touch: Any) -> int:
    return int(touch.seq)


def _read_all(store: Store, keys: list[str]) -> tuple[Any, ...]:
    """History, due touches and explain records, but what schema 9 no longer keeps (the
    events' cursor positions) or keeps as a default (a plan's own shard as source)."""
    history = {
        k: dataclasses.replace(
            h,
            rejections=tuple(dataclasses.replace(e, position="") for e in h.rejections),
            plan_context={"source_shard": "crm", **h.plan_context},
        )
        for k, h in store.history(keys).items()
    }
    due = sorted(
        (
            dataclasses.replace(p, context={"source_shard": "crm", **p.context})
            for p in store.due_touches("crm", FAR)
        ),
        key=lambda p: (p.plan_id, p.touch.seq),
    )
    return history, due, [explain(store, k) for k in keys]


def test_briefs_materialise_as_they_were_decided(store: Store) -> None:
    """Each planned touch reads back with the very brief (and every other field) the policy
    gave it, both as history and when it is due for materialisation."""
    pairs = _decided(store)
    history, due, _ = _read_all(store, [d.prospect.key for _, d in pairs])
    for event, decision in pairs:
        assert decision.plan is not None
        plan = history[decision.prospect.key].plan
        assert plan is not None
        assert sorted(plan.touches, key=_seq) == sorted(decision.plan.touches, key=_seq)
        assert any("\n\nWHO SAID NO" in tc.brief for tc in plan.touches)
        assert history[decision.prospect.key].rejections == (
            dataclasses.replace(event, shard="crm", position=""),
        )
    made = {(p.plan_id, p.touch.seq): p.touch for p in due}
    for _, decision in pairs:
        assert decision.plan is not None
        for tc in decision.plan.touches:
            assert made[(decision.plan.plan_id, tc.seq)] == tc


def _as_schema_8(store: Store, pairs: list[tuple[RejectionEvent, Decision]]) -> None:
    """Rewrite the rows the way schema 8 stored them (whole encodings, plain zlib briefs,
    rule dicts, the touches' person and account indexes)."""
    with store.engine.begin() as conn:
        schema9.to_schema_9(conn)
        for event, decision in pairs:
            key = decision.prospect.key
            assert decision.plan is not None
            plan_id = decision.plan.plan_id
            row = conn.execute(
                sa.select(schema9.plans).where(schema9.plans.c.plan_id == plan_id)
            ).one()
            shared = unpack_brief(row.brief, key, row.context)
            conn.execute(
                schema9.plans.update()
                .where(schema9.plans.c.plan_id == plan_id)
                .values(
                    brief=zlib.compress(shared.encode(), 6) if shared else None,
                    rules=[h.rule_id for h in decision.rules],
                    context={**row.context, "source_shard": "crm"},
                )
            )
            for tc in decision.plan.touches:
                old = encode(tc)
                head, sep, tail = tc.brief.partition("\n\n")
                if shared and sep and tail == shared:
                    old["brief"], old["+"] = head, 1
                touches = schema9.touches
                conn.execute(
                    touches.update()
                    .where((touches.c.plan_id == plan_id) & (touches.c.seq == tc.seq))
                    .values(touch=old)
                )
            payload = encode(
                dataclasses.replace(
                    event,
                    shard="crm",
                    prospect=Prospect(event.prospect.ref),
                    related=tuple(Prospect(p.ref) for p in event.related),
                )
            )
            conn.execute(
                schema9.events.update()
                .where(schema9.events.c.event_id == event.event_id)
                .values(payload=payload)
            )
            conn.execute(
                schema9.prospects.update()
                .where(schema9.prospects.c.key == key)
                .values(snapshot=encode(event.prospect))
            )
            conn.execute(
                t.audit.update()
                .where((t.audit.c.subject == key) & (t.audit.c.kind == "decision"))
                .values(
                    data={
                        "source": event.event_id,
                        "outcome": decision.outcome.value,
                        "rules": encode(decision.rules),
                        "plan_id": plan_id,
                    }
                )
            )
        conn.execute(sa.text("CREATE INDEX ix_touches_prospect_key ON touches (prospect_key)"))
        conn.execute(sa.text("CREATE INDEX ix_touches_account_key ON touches (account_key)"))
        conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 9"))


def test_a_version_8_database_with_stored_briefs_reads_the_same(store_url: str) -> None:
    """Migration 9 drops the touches' person and account indexes and rewrites no row, and
    migration 11 gives plans integer ids and copies the rows as they are: the store reads
    schema 8's encodings (whole briefs, rule dicts, full payloads) as they were, so history,
    due touches and `syncd explain` say exactly what they said before."""
    store = Store.open(store_url)
    pairs = _decided(store)
    keys = [d.prospect.key for _, d in pairs]
    before = _read_all(store, keys)
    _as_schema_8(store, pairs)
    store.close()

    engine = create_db_engine(store_url)
    assert migrate(engine) == [9, 10, 11]
    with engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("touches")}
        old_touch = conn.execute(sa.select(t.touches.c.touch).limit(1)).scalar_one()
    engine.dispose()
    assert not indexes & {"ix_touches_prospect_key", "ix_touches_account_key"}
    assert "due" in old_touch  # the rows are left as schema 8 wrote them
    store = Store.open(store_url)
    assert _read_all(store, keys) == before
    store.close()


def test_the_packers_invert() -> None:
    """Every packed encoding unpacks to what was packed, and older encodings pass through."""
    context = {"opportunity_id": "O1"}
    shared = "WHO SAID NO\nP [crm:contact:1]\n\nANGLE\n- Case study: a customer similar to them."
    packed = pack_brief(shared, "crm:contact:1", context)
    assert packed is not None and len(packed) < len(zlib.compress(shared.encode(), 6))
    assert unpack_brief(packed, "crm:contact:1", context) == shared
    assert unpack_brief(zlib.compress(shared.encode()), "crm:contact:1", context) == shared
    assert pack_brief("", "k", {}) is None and unpack_brief(None) == ""

    why = {"brief": f"WHY THIS TOUCH NOW\nSoon. (rule r.x)\n\n{shared}", "rule_id": "r.x"}
    other = {
        "brief": f"Deferred. WHY THIS TOUCH NOW\nSoon. (rule r.x)\n\n{shared}",
        "rule_id": "r.x",
    }
    whole = {"brief": "cut short…", "rule_id": "r.x"}
    for touch in (why, other, whole):
        row = {**touch, "due": "2030-01-02", "seq": 3}
        stored = pack_touch(dict(row), shared)
        assert "due" not in stored and "seq" not in stored
        assert unpack_touch(stored, "2030-01-02", 3, shared) == row
    assert pack_touch({**why, "due": "d", "seq": 0}, shared)["brief"] == "Soon."

    rules = [{"rule_id": "a", "inputs": {}}, {"rule_id": "b", "inputs": {"x": 1, "y": None}}]
    assert pack_rules(rules) == [["a"], ["b", {"x": 1}]]
    assert unpack_rules(pack_rules(rules)) == [
        {"rule_id": "a", "inputs": {}},
        {"rule_id": "b", "inputs": {"x": 1}},
    ]
    assert unpack_rules([{"rule_id": "a"}]) == [{"rule_id": "a", "inputs": {}}]
    for plan_id in ("crm:contact:1#2", "crm:contact:9#1", None):
        stored = pack_plan_id(plan_id, "crm:contact:1")
        assert unpack_plan_id(stored, "crm:contact:1") == plan_id
    assert pack_plan_id("crm:contact:1#2", "crm:contact:1") == "#2"

    snapshot = {
        "ref": {"system": "crm", "kind": "contact", "id": "1"},
        "account": {"ref": {"system": "crm", "id": "A"}, "name": "Acme"},
        "name": "P",
    }
    stored = pack_prospect(snapshot, "crm:contact:1", "crm:account:A")
    assert stored == {"account": {"name": "Acme"}, "name": "P"}
    assert unpack_prospect(stored, "crm:contact:1", "crm:account:A") == snapshot
    assert pack_prospect(snapshot, "crm:contact:2", None)["ref"] == snapshot["ref"]
