"""Review holds in the store: opened and resolved with the decisions that say so, listed for
the engine's check against the CRM, and counted for `syncd status` and /metrics.

A hold is opened in the same transaction as the decision that creates its review task, and
every write still waiting in the outbox for that person is cancelled with it: syncd never
nurtures past a reply nobody has read. At most one hold per person is open; a newer reply
under review replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syncd.model import Decision, ReviewHold, TouchKind, WriteKind, touch_key
from syncd.store import schema as t
from syncd.store.codec import decode, encode
from syncd.store.reads import among, fetch

HELD_NOTE = "held for review"


@dataclass(frozen=True)
class OpenReview:
    """An open hold and where its review task stands."""

    id: int
    shard: str
    prospect_key: str
    hold: ReviewHold
    task_key: str  # the review task's outbox key (its syncd key in the CRM)
    sink_shard: str | None  # None while the task is not materialised yet
    task_written: bool  # the sink confirmed the write: the CRM can report on it


class ReviewOps:
    """Mixed into Store; uses its engine and clock."""

    engine: Engine
    clock: Callable[[], float]

    def _settle_reviews(
        self, conn: Connection, shard: str, key: str, decision: Decision, source: str, now: float
    ) -> None:
        """Close the person's open hold (resolved or replaced) and open the decision's one."""
        rules = [hit.rule_id for hit in decision.rules]
        previous = conn.execute(
            sa.select(
                t.reviews.c.id, t.reviews.c.shard, t.reviews.c.plan_id, t.reviews.c.task_seq
            ).where((t.reviews.c.prospect_key == key) & (t.reviews.c.status == "open"))
        ).all()
        if previous:
            status = "resolved" if decision.resolved is not None else "replaced"
            conn.execute(
                t.reviews.update()
                .where(t.reviews.c.id.in_([r.id for r in previous]))
                .values(status=status, resolution=decision.resolved, resolved_at=now)
            )
            if decision.resolved is not None:
                self._review_audit(conn, shard, key, now, "resolved", source, rules)
        if decision.hold is None or decision.plan is None:
            return
        plan = decision.plan
        task = next(tc for tc in plan.touches if tc.kind is TouchKind.REVIEW)
        conn.execute(
            t.reviews.insert(),
            {
                "shard": shard,
                "prospect_key": key,
                "event_id": decision.hold.event_id,
                "plan_id": plan.plan_id,
                "task_seq": task.seq,
                "hold": encode(decision.hold),
                "status": "open",
                "opened_at": now,
            },
        )
        # Writes already waiting for this person are held too (a former review task excepted).
        keep = [touch_key(r.shard, key, r.plan_id, r.task_seq) for r in previous]
        conn.execute(
            t.outbox.update()
            .where(
                (t.outbox.c.prospect_key == key)
                & (t.outbox.c.write != WriteKind.OPT_OUT.value)
                & t.outbox.c.status.in_(("pending", "in_doubt"))
                & t.outbox.c.key.not_in(keep)
            )
            .values(status="cancelled", last_error=HELD_NOTE, updated_at=now)
        )
        self._review_audit(conn, shard, key, now, "opened", source, rules, decision.hold.reasons)

    @staticmethod
    def _review_audit(
        conn: Connection,
        shard: str,
        key: str,
        now: float,
        event: str,
        source: str,
        rules: list[str],
        reasons: Sequence[str] = (),
    ) -> None:
        data: dict[str, object] = {"event": event, "source": source, "rules": rules}
        if reasons:
            data["reasons"] = list(reasons)
        conn.execute(
            t.audit.insert(),
            {"at": now, "shard": shard, "kind": "review", "subject": key, "data": data},
        )

    def open_holds(self, conn: Connection, keys: Sequence[str]) -> dict[str, ReviewHold]:
        """The open hold of each of these people that has one."""
        if not keys:
            return {}
        rows = fetch(
            conn,
            sa.select(t.reviews.c.prospect_key, t.reviews.c.hold).where(
                among(conn, t.reviews.c.prospect_key, keys) & (t.reviews.c.status == "open")
            ),
        )
        return {r.prospect_key: decode(ReviewHold, r.hold) for r in rows}

    def reviews_to_check(self, shard: str, limit: int) -> list[OpenReview]:
        """Open holds of the shard, least recently checked first, with their task's state."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    t.reviews.c.id,
                    t.reviews.c.shard,
                    t.reviews.c.prospect_key,
                    t.reviews.c.plan_id,
                    t.reviews.c.task_seq,
                    t.reviews.c.hold,
                )
                .where((t.reviews.c.shard == shard) & (t.reviews.c.status == "open"))
                .order_by(t.reviews.c.checked_at.nulls_first(), t.reviews.c.id)
                .limit(limit)
            ).all()
            keys = {r.id: touch_key(r.shard, r.prospect_key, r.plan_id, r.task_seq) for r in rows}
            outbox = {
                o.key: o
                for o in conn.execute(
                    sa.select(t.outbox.c.key, t.outbox.c.sink_shard, t.outbox.c.status).where(
                        t.outbox.c.key.in_(list(keys.values()))
                    )
                )
            }
        out = []
        for r in rows:
            row = outbox.get(keys[r.id])
            out.append(
                OpenReview(
                    id=r.id,
                    shard=r.shard,
                    prospect_key=r.prospect_key,
                    hold=decode(ReviewHold, r.hold),
                    task_key=keys[r.id],
                    sink_shard=row.sink_shard if row is not None else None,
                    task_written=row is not None and row.status == "done",
                )
            )
        return out

    def mark_reviews_checked(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                t.reviews.update()
                .where(t.reviews.c.id.in_(list(ids)))
                .values(checked_at=self.clock())
            )

    def held_for_review(self, shard: str | None = None) -> list[str]:
        """Prospect keys with an open hold (every shard when None), sorted."""
        where = t.reviews.c.status == "open"
        if shard is not None:
            where = where & (t.reviews.c.shard == shard)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.reviews.c.prospect_key).where(where).order_by(t.reviews.c.prospect_key)
            )
            return [r.prospect_key for r in rows]
