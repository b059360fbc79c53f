"""Plan upkeep in the store: which live plans are due for the policy's daily review, and
recording a review's revision (or that nothing changed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syncd.model import Decision
from syncd.store import schema as t
from syncd.store.changes import Change, Settle, apply_changes
from syncd.store.reads import among, fetch
from syncd.store.touchsets import person_ids, plans_among


class PlanOps:
    """Mixed into Store; uses its engine, clock and fencing."""

    engine: Engine
    clock: Callable[[], float]
    _fence: Callable[[Connection, str, int], None]
    _settle_reviews: Settle

    def plans_to_review(self, shard: str, today: date, limit: int) -> list[tuple[int, str]]:
        """(plan row id, prospect key) of live plans not reviewed today, oldest review first
        (every plan has a review day: its creation day until first reviewed)."""
        day = today.isoformat()
        with self.engine.connect() as conn:
            rows = fetch(
                conn,
                sa.select(t.plans.c.id, t.prospects.c.key)
                .join(t.prospects, t.prospects.c.id == t.plans.c.prospect)
                .where(
                    (t.plans.c.shard == shard)
                    & (t.plans.c.status == "live")
                    & (t.plans.c.reviewed_on < day)
                )
                # the order of ix_plans_review: each batch reads the index's first rows, so
                # the work is proportional to the plans due, not to the plans kept
                .order_by(t.plans.c.reviewed_on, t.plans.c.id)
                .limit(limit),
            )
        return [(r.id, r.key) for r in rows]

    def record_reviews(
        self,
        shard: str,
        epoch: int,
        today: date,
        reviewed: Sequence[int],
        revisions: Sequence[tuple[Decision, str | None, dict[str, Any]]],
    ) -> None:
        """Apply the revisions (decision, account key, plan context) and mark plans reviewed."""
        now = self.clock()
        with self.engine.begin() as conn:
            self._fence(conn, shard, epoch)
            apply_changes(
                conn,
                shard,
                [
                    Change(decision.prospect.key, account_key, decision, context, "review")
                    for decision, account_key, context in revisions
                ],
                now,
                self._settle_reviews,
            )
            if reviewed:
                conn.execute(
                    t.plans.update()
                    .where(among(conn, t.plans.c.id, reviewed))
                    .values(reviewed_on=today.isoformat())
                )
            if revisions:  # a revised plan was re-inserted: it counts as reviewed today too
                conn.execute(
                    t.plans.update()
                    .where(
                        plans_among(conn, person_ids(conn, [d.prospect.key for d, *_ in revisions]))
                        & (t.plans.c.status == "live")
                    )
                    .values(reviewed_on=today.isoformat())
                )
