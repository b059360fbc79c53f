"""Outbox transitions: materialise due touches, claim, finish, reconcile, replay.

The write protocol lives here as state: a row is `inflight` (committed) before its HTTP call
is made, so after a crash an `inflight` row is known to be *in doubt*, never assumed lost or
done. Statuses: pending → inflight → done | pending (retry) | in_doubt | dead; in_doubt →
done (found remotely) | pending (absent, re-send); pending / in_doubt → cancelled (opt-out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syncd.model import Touch
from syncd.secrets import scrub
from syncd.store import schema as t
from syncd.store.codec import decode
from syncd.store.compact import unpack_brief, unpack_prospect, unpack_touch

OPEN_STATUSES = ("pending", "inflight", "in_doubt")
# one touch, for executemany updates with parameters p (its plan's row id) and s (seq)
_touch_at = (t.touches.c.plan == sa.bindparam("p")) & (t.touches.c.seq == sa.bindparam("s"))


class OutboxOps:
    """Mixed into Store; uses its engine, clock and fencing."""

    engine: Engine
    clock: Callable[[], float]
    _fence: Callable[[Connection, str, int], None]

    def count_paused_due(
        self,
        shard: str,
        until: date,
        prospects: frozenset[str],
        accounts: frozenset[str],
        *,
        whole_shard: bool = False,
    ) -> int:
        """How many planned touches due by `until` a pause (of the shard, or of these
        prospects and accounts) holds."""
        held: sa.ColumnElement[bool] = sa.true() if whole_shard else sa.false()
        if prospects:
            held = held | t.prospects.c.key.in_(sorted(prospects))
        if accounts:
            held = held | t.prospects.c.account_key.in_(sorted(accounts))
        query = (
            sa.select(sa.func.count())
            .select_from(t.touches)
            .join(t.plans, t.plans.c.id == t.touches.c.plan)
            .join(t.prospects, t.prospects.c.id == t.plans.c.prospect)
        ).where(
            (t.touches.c.shard == shard)
            & (t.touches.c.state == "planned")
            & (t.touches.c.due <= until.isoformat())
            & held
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def due_touches(
        self,
        shard: str,
        until: date,
        limit: int | None = None,
        *,
        skip_prospects: frozenset[str] = frozenset(),
        skip_accounts: frozenset[str] = frozenset(),
    ) -> list[Any]:
        """Planned touches due by `until`, oldest first, with their whole brief again; those of
        the skipped (paused) prospects and accounts stay where they are."""
        from syncd.model import Prospect
        from syncd.store.gateway import PlannedTouch

        query = (
            sa.select(
                t.touches.c.plan,
                t.prospects.c.key,
                t.plans.c.generation,
                t.prospects.c.account_key,
                t.touches.c.touch,
                t.touches.c.due,
                t.touches.c.seq,
                t.plans.c.context,
                t.plans.c.brief,
                t.prospects.c.snapshot,
            )
            .join(t.plans, t.plans.c.id == t.touches.c.plan)
            .join(t.prospects, t.prospects.c.id == t.plans.c.prospect)
            .where(
                (t.touches.c.shard == shard)
                & (t.touches.c.state == "planned")
                & (t.touches.c.due <= until.isoformat())
            )
            .order_by(t.touches.c.due, t.prospects.c.key, t.plans.c.generation, t.touches.c.seq)
        )
        if skip_prospects:
            query = query.where(t.prospects.c.key.not_in(sorted(skip_prospects)))
        if skip_accounts:
            query = query.where(
                t.prospects.c.account_key.is_(None)
                | t.prospects.c.account_key.not_in(sorted(skip_accounts))
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query if limit is None else query.limit(limit)).all()
        return [
            PlannedTouch(
                f"{r.key}#{r.generation}",
                r.key,
                r.account_key,
                decode(
                    Touch,
                    unpack_touch(r.touch, r.due, r.seq, unpack_brief(r.brief, r.key, r.context)),
                ),
                dict(r.context),
                (
                    decode(Prospect, unpack_prospect(r.snapshot, r.key, r.account_key))
                    if r.snapshot
                    else None
                ),
                r.plan,
            )
            for r in rows
        ]

    def materialise(self, shard: str, epoch: int, items: Sequence[Any]) -> int:
        """Insert outbox rows (a key already there is left alone) and settle the touches."""
        now = self.clock()
        cancelled = [
            {"p": m.plan_ref, "s": m.seq, "n": m.cancel_note[:200]}
            for m in items
            if m.cancel_note is not None
        ]
        written = [m for m in items if m.cancel_note is None]
        with self.engine.begin() as conn:
            self._fence(conn, shard, epoch)
            if cancelled:
                conn.execute(
                    t.touches.update()
                    .where(_touch_at)
                    .values(state="cancelled", note=sa.bindparam("n")),
                    cancelled,
                )
            if not written:
                return 0
            keys = list(dict.fromkeys(m.key for m in written))
            present = {
                r.key
                for r in conn.execute(sa.select(t.outbox.c.key).where(t.outbox.c.key.in_(keys)))
            }
            fresh: dict[str, dict[str, Any]] = {}
            for m in written:
                if m.key in present or m.key in fresh:
                    continue
                fresh[m.key] = {
                    "key": m.key,
                    "shard": shard,
                    "sink_shard": m.sink_shard,
                    "write": m.spec["write"],
                    "prospect_key": m.prospect_key,
                    "channel": m.channel,
                    "spec": m.spec,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            if fresh:
                conn.execute(t.outbox.insert(), list(fresh.values()))
            conn.execute(
                t.touches.update()
                .where(_touch_at)
                .values(state="materialised", outbox_key=sa.bindparam("k")),
                [{"p": m.plan_ref, "s": m.seq, "k": m.key} for m in written],
            )
        return len(fresh)

    def recover_inflight(self, sink_shard: str, grace_s: float = 0.0) -> int:
        """After a restart or a takeover, every row left inflight may or may not have been
        applied: it is in doubt, and its look-up waits `grace_s` (the vendor's index lag)
        counted from when the write was attempted, not from now."""
        now = self.clock()
        attempted = sa.func.coalesce(t.outbox.c.attempted_at, t.outbox.c.updated_at)
        with self.engine.begin() as conn:
            done = conn.execute(
                t.outbox.update()
                .where((t.outbox.c.sink_shard == sink_shard) & (t.outbox.c.status == "inflight"))
                .values(
                    status="in_doubt",
                    next_attempt_at=attempted + grace_s,
                    updated_at=now,
                    last_error="interrupted",
                )
            )
            return int(done.rowcount)

    def _items(self, conn: Connection, where: Any, limit: int) -> list[Any]:
        from syncd.store.gateway import OutboxItem

        rows = conn.execute(
            sa.select(t.outbox)
            .where(where)
            .order_by(t.outbox.c.next_attempt_at, t.outbox.c.key)
            .limit(limit)
        ).all()
        return [
            OutboxItem(
                r.key,
                r.shard,
                r.sink_shard,
                r.prospect_key,
                r.channel,
                r.spec,
                r.status,
                r.attempts,
            )
            for r in rows
        ]

    def claim(self, sink_shard: str, epoch: int, limit: int) -> list[Any]:
        """Mark up to `limit` due pending rows inflight and commit, before any call is made."""
        now = self.clock()
        with self.engine.begin() as conn:
            self._fence(conn, sink_shard, epoch)
            items = self._items(
                conn,
                (t.outbox.c.sink_shard == sink_shard)
                & (t.outbox.c.status == "pending")
                & (t.outbox.c.next_attempt_at <= now),
                limit,
            )
            if items:
                conn.execute(
                    t.outbox.update()
                    .where(t.outbox.c.key.in_([i.key for i in items]))
                    .values(
                        status="inflight",
                        attempts=t.outbox.c.attempts + 1,
                        updated_at=now,
                        attempted_at=now,
                    )
                )
        return items

    def due_in_doubt(self, sink_shard: str, limit: int) -> list[Any]:
        with self.engine.connect() as conn:
            return self._items(
                conn,
                (t.outbox.c.sink_shard == sink_shard)
                & (t.outbox.c.status == "in_doubt")
                & (t.outbox.c.next_attempt_at <= self.clock()),
                limit,
            )

    def finish(self, sink_shard: str, epoch: int, outcomes: Sequence[Any]) -> None:
        """Record how each item ended, with an audit row each; dead ones become dead letters."""
        if not outcomes:
            return
        now = self.clock()
        with self.engine.begin() as conn:
            self._fence(conn, sink_shard, epoch)
            conn.execute(
                t.outbox.update()
                .where(t.outbox.c.key == sa.bindparam("k"))
                .values(
                    status=sa.bindparam("st"),
                    next_attempt_at=sa.bindparam("at"),
                    remote_id=sa.bindparam("rid"),
                    last_error=sa.bindparam("err"),
                    updated_at=now,
                ),
                [
                    {
                        "k": o.key,
                        "st": o.status,
                        "at": o.next_attempt_at or now,
                        "rid": o.remote_id,
                        "err": _stored_error(o.error),
                    }
                    for o in outcomes
                ],
            )
            conn.execute(
                t.audit.insert(),
                [
                    {
                        "at": now,
                        "shard": sink_shard,
                        "kind": "write",
                        "subject": o.key,
                        "data": {
                            "status": o.status,
                            "remote_id": o.remote_id,
                            "error": _stored_error(o.error),
                        },
                    }
                    for o in outcomes
                ],
            )
            dead = [
                {
                    "at": now,
                    "shard": sink_shard,
                    "kind": "write",
                    "ref": o.key,
                    "error": _stored_error(o.error) or "unknown",
                }
                for o in outcomes
                if o.status == "dead"
            ]
            if dead:
                conn.execute(t.dead_letters.insert(), dead)

    def purge(
        self, sink_shard: str, audit_before: float | None, outbox_before: float | None
    ) -> int:
        """Retention: drop audit rows older than `audit_before` and this shard's done or
        cancelled outbox rows last changed before `outbox_before` (None keeps them)."""
        dropped = 0
        with self.engine.begin() as conn:
            if audit_before is not None:
                dropped += conn.execute(
                    t.audit.delete().where(t.audit.c.at < audit_before)
                ).rowcount
            if outbox_before is not None:
                dropped += conn.execute(
                    t.outbox.delete().where(
                        (t.outbox.c.sink_shard == sink_shard)
                        & t.outbox.c.status.in_(("done", "cancelled"))
                        & (t.outbox.c.updated_at < outbox_before)
                    )
                ).rowcount
        return dropped

    # --- status and repair ------------------------------------------------------------------------

    def outbox_counts(self, sink_shard: str | None = None) -> dict[str, int]:
        with self.engine.connect() as conn:
            query = sa.select(t.outbox.c.status, sa.func.count()).group_by(t.outbox.c.status)
            if sink_shard is not None:
                query = query.where(t.outbox.c.sink_shard == sink_shard)
            return {r[0]: int(r[1]) for r in conn.execute(query)}

    def oldest_pending_age_s(self, sink_shard: str) -> float | None:
        with self.engine.connect() as conn:
            oldest = conn.execute(
                sa.select(sa.func.min(t.outbox.c.created_at)).where(
                    (t.outbox.c.sink_shard == sink_shard) & t.outbox.c.status.in_(OPEN_STATUSES)
                )
            ).scalar()
        return None if oldest is None else max(0.0, self.clock() - float(oldest))

    def dead_letters(self, limit: int | None = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.dead_letters)
                .where(t.dead_letters.c.replayed_at.is_(None))
                .order_by(t.dead_letters.c.id)
                .limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]

    def replay(self, refs: Sequence[str] | None = None) -> int:
        """Re-queue dead writes (all, or those named); returns how many were re-queued."""
        now = self.clock()
        with self.engine.begin() as conn:
            where = t.dead_letters.c.replayed_at.is_(None) & (t.dead_letters.c.kind == "write")
            if refs:
                where &= t.dead_letters.c.ref.in_(list(refs))
            keys = [r.ref for r in conn.execute(sa.select(t.dead_letters.c.ref).where(where))]
            if not keys:
                return 0
            conn.execute(
                t.outbox.update()
                .where(t.outbox.c.key.in_(keys) & (t.outbox.c.status == "dead"))
                .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now)
            )
            conn.execute(t.dead_letters.update().where(where).values(replayed_at=now))
            conn.execute(
                t.audit.insert(),
                [
                    {"at": now, "shard": "-", "kind": "replay", "subject": key, "data": {}}
                    for key in keys
                ],
            )
            return len(keys)

    def next_due(self, shard: str, limit: int = 5) -> list[tuple[str, str, str]]:
        """(due date, prospect key, touch kind) of the next planned touches."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.touches.c.due, t.prospects.c.key, t.touches.c.touch)
                .join(t.plans, t.plans.c.id == t.touches.c.plan)
                .join(t.prospects, t.prospects.c.id == t.plans.c.prospect)
                .where((t.touches.c.shard == shard) & (t.touches.c.state == "planned"))
                .order_by(t.touches.c.due)
                .limit(limit)
            ).all()
        return [(r.due, r.key, str(r.touch.get("kind"))) for r in rows]

    def shard_row(self, shard: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.shards).where(t.shards.c.name == shard)).first()
        return dict(row._mapping) if row else None


def _stored_error(error: str | None) -> str | None:
    """A vendor error as kept in the outbox, audit and dead letters: credentials masked, cut."""
    return scrub(error)[:500] if error else None
