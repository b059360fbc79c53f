"""Applying a batch of decisions to the state in a handful of multi-row statements.

A page of 2,000 decisions (or a review batch) used to cost a dozen single-row statements per
decision; here each kind of change is one executemany or one `IN (...)` statement for the
whole batch, inside the caller's transaction (with the cursor, under the lease's fence).

The outcome is the one that applying the decisions one after another gives. Decisions about
different people touch different rows, so a batch is applied in rounds: round n holds every
person's n-th decision of the batch (nearly always there is only round one), and each round
runs the steps in the order a single decision does: suppressions, opt-out cancellations, the
old plan superseded or cancelled, the new plan and its touches, review holds, the audit row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from syncd.model import Decision, Plan, Touch
from syncd.store import schema as t
from syncd.store.bulk import execute_rows
from syncd.store.codec import encode
from syncd.store.compact import pack_brief, pack_plan_id, pack_rules, pack_touch
from syncd.store.reads import among, fetch
from syncd.store.touchsets import person_ids, plans_among, plans_of, touches_of


@dataclass(frozen=True)
class Change:
    """One decision to apply, with what the store needs beside it."""

    key: str  # the prospect's key
    account_key: str | None
    decision: Decision
    context: dict[str, Any]  # what writes need beyond the touch (source shard, reply thread)
    source: str  # the event id, or "review"


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    keys: list[str],
    where: Any = None,
) -> None:
    """Insert rows, or update the existing ones with the same primary key (one statement);
    `where` limits which existing rows are updated. Keys must be unique within `rows`."""
    if not rows:
        return
    stmt = _insert(conn, table)
    update = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=update, where=where)
    execute_rows(conn, stmt, rows)


def insert_absent(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, leaving alone those whose primary key is already there (one statement)."""
    if not rows:
        return
    execute_rows(conn, _insert(conn, table).on_conflict_do_nothing(), rows)


def _insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both dialects spell it alike)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


# Closes a person's open review hold and opens the decision's one (Store._settle_reviews).
Settle = Callable[[Connection, str, str, Decision, str, float], None]


def apply_changes(
    conn: Connection, shard: str, changes: Sequence[Change], now: float, settle: Settle
) -> None:
    """Suppressions, plans, touches, review holds and audit rows of these decisions, in
    rounds (see above)."""
    rounds: list[list[Change]] = []
    seen: dict[str, int] = defaultdict(int)
    for change in changes:
        n = seen[change.key]
        seen[change.key] += 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(change)
    for batch in rounds:
        _apply_round(conn, shard, batch, now, settle)


def _apply_round(
    conn: Connection, shard: str, batch: list[Change], now: float, settle: Settle
) -> None:
    people = person_ids(conn, [c.key for c in batch])  # once for the round's every step
    suppress = [c for c in batch if c.decision.suppress]
    insert_absent(
        conn,
        t.suppressions,
        [
            {"prospect_key": c.key, "channel": ch.value, "source": c.source, "created_at": now}
            for c in suppress
            for ch in sorted(c.decision.suppress)
        ],
    )
    _cancel_channels(
        conn, people, {c.key: {ch.value for ch in c.decision.suppress} for c in suppress}, now
    )
    for status, ended in (
        ("superseded", [c.key for c in batch if c.decision.plan is not None]),
        ("cancelled", [c.key for c in batch if c.decision.plan is None and c.decision.cancel_plan]),
    ):
        if not ended:
            continue
        theirs = {k: people[k] for k in ended if k in people}
        conn.execute(
            t.plans.update()
            .where(plans_among(conn, theirs) & (t.plans.c.status == "live"))
            .values(status=status)
        )
        conn.execute(
            t.touches.update()
            .where(touches_of(conn, theirs) & (t.touches.c.state == "planned"))
            .values(state="cancelled", note=f"plan {status}")
        )
    _insert_plans(conn, shard, [c for c in batch if c.decision.plan is not None], people, now)
    for c in batch:  # review holds are rare: one at a time
        if c.decision.hold is not None or c.decision.resolved is not None:
            settle(conn, shard, c.key, c.decision, c.source, now)
    execute_rows(
        conn,
        t.audit.insert(),
        [
            {
                "at": now,
                "shard": shard,
                "kind": "decision",
                "subject": c.key,
                "data": {
                    "source": c.source,
                    "outcome": c.decision.outcome.value,
                    "rules": pack_rules(encode(c.decision.rules)),
                    "plan_id": pack_plan_id(
                        c.decision.plan.plan_id if c.decision.plan else None, c.key
                    ),
                },
            }
            for c in batch
        ],
    )


def _cancel_channels(
    conn: Connection, people: dict[str, int], channels: dict[str, set[str]], now: float
) -> None:
    """Planned touches and open writes on a channel the person opted out of are cancelled."""
    if not channels:
        return
    plans = plans_of(conn, {k: people[k] for k in channels if k in people})
    cancelled = [
        {"p": row.plan, "s": row.seq}
        for row in fetch(
            conn,
            sa.select(t.touches.c.plan, t.touches.c.seq, t.touches.c.touch).where(
                among(conn, t.touches.c.plan, list(plans)) & (t.touches.c.state == "planned")
            ),
        )
        if row.touch.get("suppress_channel") in channels[plans[row.plan]]
    ]
    if cancelled:
        conn.execute(
            t.touches.update()
            .where((t.touches.c.plan == sa.bindparam("p")) & (t.touches.c.seq == sa.bindparam("s")))
            .values(state="cancelled", note="opted out"),
            cancelled,
        )
    by_channels: dict[frozenset[str], list[str]] = defaultdict(list)
    for key, names in channels.items():
        by_channels[frozenset(names)].append(key)
    for group, keys in by_channels.items():
        conn.execute(
            t.outbox.update()
            .where(
                among(conn, t.outbox.c.prospect_key, keys)
                & t.outbox.c.channel.in_(sorted(group))
                & t.outbox.c.status.in_(("pending", "in_doubt"))
            )
            .values(status="cancelled", last_error="opted out", updated_at=now)
        )


def _insert_plans(
    conn: Connection, shard: str, batch: list[Change], people: dict[str, int], now: float
) -> None:
    if not batch:
        return
    plans: dict[str, tuple[Change, Plan]] = {}
    for c in batch:
        assert c.decision.plan is not None
        plans[c.decision.plan.plan_id] = (c, c.decision.plan)
    reviewed_on = datetime.fromtimestamp(now, UTC).date().isoformat()
    people = _person_rows(conn, shard, [c.key for c, _ in plans.values()], people, now)
    plan_rows = []
    touch_rows: list[tuple[tuple[int, int], dict[str, Any]]] = []  # (person, generation), row
    for c, plan in plans.values():
        shared, touches = split_briefs(plan.touches)
        person = people[c.key]
        plan_rows.append(
            {
                "prospect": person,
                "shard": shard,
                "generation": plan.generation,
                "status": "live",
                "created_at": now,
                "callback_on": plan.callback_on.isoformat() if plan.callback_on else None,
                # the rules with their inputs are in the decision's audit row, not here too
                "rules": [],
                "context": _lean_context(c.context, shard),
                "brief": pack_brief(shared, c.key, c.context),
                # a plan just made needs no review until tomorrow
                "reviewed_on": reviewed_on,
            }
        )
        touch_rows += [
            (
                (person, plan.generation),
                {
                    "seq": tc.seq,
                    "shard": shard,
                    "due": tc.due.isoformat(),
                    "state": "planned",
                    "touch": stored,
                    "note": None,
                    "owner_id": _owner_id(c.context),
                },
            )
            for tc, stored in zip(plan.touches, touches, strict=True)
        ]
    # A plan made again (same person and generation) keeps its row and id, so the touches it
    # already wrote stay its own.
    upsert(conn, t.plans, plan_rows, ["prospect", "generation"])
    refs = {
        (r.prospect, r.generation): r.id
        for r in fetch(
            conn,
            sa.select(t.plans.c.id, t.plans.c.prospect, t.plans.c.generation).where(
                among(conn, t.plans.c.prospect, list(people.values()))
            ),
        )
    }
    # A revision carries over the touches already written (materialised): those stay as they
    # are; every other touch of the plan is planned (again).
    upsert(
        conn,
        t.touches,
        [{"plan": refs[plan], **row} for plan, row in touch_rows],
        ["plan", "seq"],
        where=t.touches.c.state != "materialised",
    )


def _person_rows(
    conn: Connection, shard: str, keys: list[str], known: dict[str, int], now: float
) -> dict[str, int]:
    """The prospects row id of each person a plan is for (`known`: the round's look-up). A
    page writes its people's rows before their plans; a plan for anyone else (none is known)
    gets a bare row rather than failing the whole batch."""
    people = {k: known[k] for k in keys if k in known}
    missing = [k for k in keys if k not in people]
    if missing:
        insert_absent(
            conn,
            t.prospects,
            [{"key": k, "shard": shard, "snapshot": {}, "updated_at": now} for k in missing],
        )
        people.update(person_ids(conn, missing))
    return people


def _lean_context(context: dict[str, Any], shard: str) -> dict[str, Any]:
    """The context without its source shard when that is the plan's own (the default)."""
    if context.get("source_shard") != shard:
        return context
    return {k: v for k, v in context.items() if k != "source_shard"}


def _owner_id(context: dict[str, Any]) -> str | None:
    """The plan's assignee: the per-owner daily cap counts touches by it."""
    owner = context.get("owner")
    return str(owner["id"]) if isinstance(owner, dict) and owner.get("id") else None


def split_briefs(touches: Iterable[Touch]) -> tuple[str, list[dict[str, Any]]]:
    """The plan's shared brief once, and each touch stored with only its own head.

    A brief is the touch's "why now" head, a blank line and the facts shared by the whole
    plan; storing the shared part once per plan (compressed) instead of in every touch is
    most of a plan's size. A brief that is not head + shared (cut to the field limit) is
    kept whole (see compact.pack_touch).
    """
    touches = list(touches)
    tails: dict[str, int] = defaultdict(int)
    for tc in touches:
        _head, sep, tail = tc.brief.partition("\n\n")
        if sep:
            tails[tail] += 1
    shared = max(tails, key=lambda s: (tails[s], len(s))) if tails else ""
    return shared, [pack_touch(encode(tc), shared) for tc in touches]
