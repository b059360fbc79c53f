"""Read-only look-ups for `syncd explain`: find a person, and everything syncd recorded
about them (events, decisions with their rules, plans, touches and their writes)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syncd.store import schema as t
from syncd.store.reads import fetch

EMAIL_SCAN_BATCH = 2000  # prospects decoded at a time when searching by e-mail address


class LookupOps:
    """Mixed into Store; reads only."""

    engine: Engine

    def find_prospects(self, term: str) -> list[str]:
        """Prospect keys matching a prospect key, an e-mail address or a CRM record id."""
        term = term.strip()
        with self.engine.connect() as conn:
            if conn.execute(sa.select(t.prospects.c.key).where(t.prospects.c.key == term)).first():
                return [term]
            if "@" in term:
                return self._by_email(conn, term.lower())
            rows = conn.execute(
                sa.select(t.prospects.c.key).where(
                    t.prospects.c.key.endswith(f":{term}", autoescape=True)
                )
            ).all()
            return sorted(r.key for r in rows if r.key.split(":", 2)[2] == term)

    def _by_email(self, conn: Connection, wanted: str) -> list[str]:
        """Keys of the prospects whose snapshot holds this address. Snapshots are stored
        compressed, so the database cannot search them: they are read a batch at a time in
        key order and decoded here, and only the matching keys are kept."""
        found: list[str] = []
        after = ""
        while True:
            rows = fetch(
                conn,
                sa.select(t.prospects.c.key, t.prospects.c.snapshot)
                .where(t.prospects.c.key > after)
                .order_by(t.prospects.c.key)
                .limit(EMAIL_SCAN_BATCH),
            )
            found += (r.key for r in rows if str(r.snapshot.get("email") or "").lower() == wanted)
            if len(rows) < EMAIL_SCAN_BATCH:
                return sorted(found)
            after = rows[-1].key

    def prospect_record(self, key: str) -> dict[str, Any]:
        """The raw rows about one prospect, oldest first."""
        with self.engine.connect() as conn:
            prospect = conn.execute(sa.select(t.prospects).where(t.prospects.c.key == key)).first()
            events = conn.execute(
                sa.select(t.events)
                .where(t.events.c.prospect == (prospect.id if prospect else None))
                .order_by(t.events.c.occurred_at)
            ).all()
            plans = conn.execute(
                sa.select(t.plans)
                .where(t.plans.c.prospect == (prospect.id if prospect else None))
                .order_by(t.plans.c.created_at, t.plans.c.generation)
            ).all()
            touches = conn.execute(
                sa.select(t.touches, t.outbox.c.status, t.outbox.c.remote_id, t.outbox.c.attempts)
                .outerjoin(t.outbox, t.outbox.c.key == t.touches.c.outbox_key)
                .where(t.touches.c.plan.in_([p.id for p in plans]))
                .order_by(t.touches.c.plan, t.touches.c.seq)
            ).all()
            audit = conn.execute(
                sa.select(t.audit)
                .where(
                    (t.audit.c.subject == key) & t.audit.c.kind.in_(("decision", "pause", "resume"))
                )
                .order_by(t.audit.c.at, t.audit.c.id)
            ).all()
            suppressions = conn.execute(
                sa.select(t.suppressions).where(t.suppressions.c.prospect_key == key)
            ).all()
        plan_ids = {p.id: f"{key}#{p.generation}" for p in plans}
        return {
            "prospect": dict(prospect._mapping) if prospect else None,
            "events": [dict(r._mapping) for r in events],
            # a plan's id as everything else names it: "<prospect key>#<generation>"
            "plans": [{**r._mapping, "plan_id": f"{key}#{r.generation}"} for r in plans],
            "touches": [
                {**r._mapping, "plan_id": plan_ids[r.plan], "prospect_key": key} for r in touches
            ],
            "audit": [dict(r._mapping) for r in audit],
            "suppressions": [dict(r._mapping) for r in suppressions],
        }
