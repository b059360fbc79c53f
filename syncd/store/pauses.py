"""Pauses in the store: an admin holds a prospect, an account or a whole shard back.

Pausing writes a row and an audit record; materialisation leaves the touches of anything
paused where they are. Resuming removes the row, audits it, and moves the paused people's
remaining planned touches on by the days the pause lasted, so their plan goes on from today
instead of sending everything that fell due meanwhile at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syncd.store import schema as t
from syncd.store.touchsets import person_ids, touches_at, touches_of

SCOPES = ("prospect", "account", "shard")


@dataclass(frozen=True)
class Pause:
    scope: str  # prospect | account | shard
    ref: str  # prospect key, account key or shard name
    paused_at: float
    reason: str | None = None


@dataclass(frozen=True)
class Paused:
    """Everything paused, for filtering due touches."""

    prospects: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    shards: frozenset[str] = frozenset()

    def holds(self, shard: str, prospect_key: str, account_key: str | None) -> bool:
        return (
            shard in self.shards
            or prospect_key in self.prospects
            or (account_key is not None and account_key in self.accounts)
        )


class PauseOps:
    """Mixed into Store; uses its engine and clock."""

    engine: Engine
    clock: Callable[[], float]

    def pause(self, scope: str, ref: str, reason: str | None = None) -> bool:
        """Pause it; False when it already was (nothing changes then)."""
        now = self.clock()
        with self.engine.begin() as conn:
            where = (t.pauses.c.scope == scope) & (t.pauses.c.ref == ref)
            if conn.execute(sa.select(t.pauses.c.ref).where(where)).first():
                return False
            conn.execute(
                t.pauses.insert(),
                {"scope": scope, "ref": ref, "paused_at": now, "reason": reason},
            )
            conn.execute(
                t.audit.insert(),
                {
                    "at": now,
                    "shard": ref if scope == "shard" else "-",
                    "kind": "pause",
                    "subject": ref,
                    "data": {"scope": scope, "reason": reason},
                },
            )
        return True

    def resume(self, scope: str, ref: str, today: date) -> int | None:
        """Resume it and move its planned touches on by the paused days; returns how many
        touches moved, None when it was not paused."""
        now = self.clock()
        with self.engine.begin() as conn:
            where = (t.pauses.c.scope == scope) & (t.pauses.c.ref == ref)
            row = conn.execute(sa.select(t.pauses).where(where)).first()
            if row is None:
                return None
            conn.execute(t.pauses.delete().where(where))
            since = datetime.fromtimestamp(row.paused_at, UTC).date()
            shift = max(0, (today - since).days)
            moved = self._shift(conn, scope, ref, shift) if shift else 0
            conn.execute(
                t.audit.insert(),
                {
                    "at": now,
                    "shard": ref if scope == "shard" else "-",
                    "kind": "resume",
                    "subject": ref,
                    "data": {"scope": scope, "paused_days": shift, "touches_moved": moved},
                },
            )
        return moved

    def _shift(self, conn: Any, scope: str, ref: str, days: int) -> int:
        if scope == "prospect":
            whose = touches_of(conn, person_ids(conn, [ref]))
        elif scope == "account":
            whose = touches_at(conn, [ref])
        else:
            whose = t.touches.c.shard == ref
        rows = conn.execute(
            sa.select(t.touches.c.plan, t.touches.c.seq, t.touches.c.due, t.touches.c.touch)
            .join(t.plans, t.plans.c.id == t.touches.c.plan)
            .where(whose & (t.touches.c.state == "planned") & (t.plans.c.status == "live"))
        ).all()
        for r in rows:
            due = (date.fromisoformat(r.due) + timedelta(days=days)).isoformat()
            conn.execute(
                t.touches.update()
                .where((t.touches.c.plan == r.plan) & (t.touches.c.seq == r.seq))
                # the due date lives in its column (a touch stored before schema 9 has it twice)
                .values(due=due, touch={**r.touch, "due": due} if "due" in r.touch else r.touch)
            )
        return len(rows)

    def pauses(self) -> list[Pause]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.pauses).order_by(t.pauses.c.paused_at)).all()
        return [Pause(r.scope, r.ref, r.paused_at, r.reason) for r in rows]

    def paused(self) -> Paused:
        found: dict[str, set[str]] = {scope: set() for scope in SCOPES}
        for p in self.pauses():
            found.setdefault(p.scope, set()).add(p.ref)
        return Paused(
            frozenset(found["prospect"]), frozenset(found["account"]), frozenset(found["shard"])
        )
