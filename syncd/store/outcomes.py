"""Re-engagements in the store: finding the nurtured prospects at an account, recording that
one came back (ending the nurture) with its attribution, and reading them for the report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syncd.model import Cursor, Reengagement
from syncd.store import schema as t
from syncd.store.touchsets import person_ids, plans_among, touches_of

REENGAGED = "reengaged"  # audit kind, and the note on the touches it cancelled


def reengagement_cursor(shard: str) -> str:
    """The `cursors` row of a shard's re-engagement reads (beside its source's own)."""
    return f"{shard}#reengagement"


class OutcomeOps:
    """Mixed into Store; uses its engine, clock, fencing and cursor writer."""

    engine: Engine
    clock: Callable[[], float]
    _fence: Callable[[Connection, str, int], None]
    _set_cursor: Callable[[Connection, str, Cursor, float], None]

    def nurtured_at(self, account_keys: Sequence[str]) -> dict[str, list[str]]:
        """Prospect keys with a live plan, by account key."""
        keys = [k for k in dict.fromkeys(account_keys) if k]
        out: dict[str, list[str]] = defaultdict(list)
        if not keys:
            return out
        with self.engine.connect() as conn:
            for r in conn.execute(
                sa.select(t.prospects.c.account_key, t.prospects.c.key)
                .join(t.plans, t.plans.c.prospect == t.prospects.c.id)
                .where(t.prospects.c.account_key.in_(keys) & (t.plans.c.status == "live"))
                .order_by(t.prospects.c.key)
            ):
                out[r.account_key].append(r.key)
        return out

    def commit_reengagements(
        self, shard: str, epoch: int, cursor: Cursor, found: Sequence[Reengagement]
    ) -> int:
        """Record the re-engagements, end their nurture, and move the read's cursor, at once.
        Returns how many were new (one already recorded is not recorded twice)."""
        now = self.clock()
        with self.engine.begin() as conn:
            self._fence(conn, shard, epoch)
            added = sum(self.record_reengagement(conn, shard, r, now) for r in found)
            self._set_cursor(conn, reengagement_cursor(shard), cursor, now)
        return added

    def record_reengagement(
        self, conn: Connection, shard: str, r: Reengagement, now: float
    ) -> bool:
        exists = conn.execute(
            sa.select(t.outcomes.c.kind).where(
                (t.outcomes.c.prospect_key == r.prospect_key)
                & (t.outcomes.c.source_ref == r.source_ref)
            )
        ).first()
        if exists:
            return False
        conn.execute(
            t.outcomes.insert(),
            {
                "prospect_key": r.prospect_key,
                "source_ref": r.source_ref,
                "shard": shard,
                "kind": r.kind,
                "occurred_at": r.occurred_at.timestamp(),
                "lost_at": r.lost_at.timestamp() if r.lost_at else None,
                "owner_id": r.owner_id,
                "loss_reason": r.loss_reason,
                "competitor": r.competitor,
                "worth_tier": r.worth_tier,
                "amount": r.amount,
                "attribution": r.attribution,
            },
        )
        # The nurture ends: the plan, its touches not made yet, and writes not sent yet.
        person = person_ids(conn, [r.prospect_key])
        conn.execute(
            t.plans.update()
            .where(plans_among(conn, person) & (t.plans.c.status == "live"))
            .values(status="cancelled")
        )
        conn.execute(
            t.touches.update()
            .where(touches_of(conn, person) & (t.touches.c.state == "planned"))
            .values(state="cancelled", note=REENGAGED)
        )
        conn.execute(
            t.outbox.update()
            .where((t.outbox.c.prospect_key == r.prospect_key) & (t.outbox.c.status == "pending"))
            .values(status="cancelled", last_error=REENGAGED, updated_at=now)
        )
        conn.execute(
            t.prospects.update().where(t.prospects.c.key == r.prospect_key).values(outcome="active")
        )
        conn.execute(
            t.audit.insert(),
            {
                "at": now,
                "shard": shard,
                "kind": REENGAGED,
                "subject": r.prospect_key,
                "data": {"kind": r.kind, "source_ref": r.source_ref, **r.attribution},
            },
        )
        return True

    def reengagements(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Outcome rows that occurred in [since, until), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.outcomes)
                .where(
                    (t.outcomes.c.occurred_at >= since.timestamp())
                    & (t.outcomes.c.occurred_at < until.timestamp())
                )
                .order_by(t.outcomes.c.occurred_at, t.outcomes.c.prospect_key)
            ).all()
        return [
            {
                **r._asdict(),
                "occurred_at": datetime.fromtimestamp(r.occurred_at, UTC),
                "lost_at": datetime.fromtimestamp(r.lost_at, UTC) if r.lost_at else None,
            }
            for r in rows
        ]

    def nurtured_count(self, until: datetime) -> int:
        """Prospects syncd planned a nurture for before `until` (the rate's denominator)."""
        with self.engine.connect() as conn:
            count = conn.execute(
                sa.select(sa.func.count(sa.distinct(t.plans.c.prospect))).where(
                    t.plans.c.created_at < until.timestamp()
                )
            ).scalar()
        return int(count or 0)
