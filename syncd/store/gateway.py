"""The Store: the one place that reads and writes syncd's state.

Every state transition goes through a method here, each in one transaction. Methods that
change a shard's state take the shard's lease `epoch` and fail with `LeaseLost` when another
instance has since taken the shard over (fencing), so a paused process cannot write stale
decisions after waking up.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syncd.model import (
    Channel,
    Cursor,
    Decision,
    Plan,
    Prospect,
    ProspectRef,
    Reengagement,
    RejectionEvent,
    ReviewHold,
    Touch,
)
from syncd.secrets import scrub
from syncd.store import schema as t
from syncd.store.bulk import execute_rows
from syncd.store.changes import Change, apply_changes, upsert
from syncd.store.codec import decode, encode
from syncd.store.compact import pack_prospect, unpack_brief, unpack_prospect, unpack_touch
from syncd.store.database import DAEMON_APP_PREFIX, create_db_engine, migrate, open_existing
from syncd.store.lookup import LookupOps
from syncd.store.outbox import OutboxOps
from syncd.store.outcomes import OutcomeOps
from syncd.store.pauses import PauseOps
from syncd.store.plans import PlanOps
from syncd.store.reads import among, fetch
from syncd.store.reviews import ReviewOps
from syncd.store.touchsets import plans_at, plans_of

CONTACTLESS = "contactless"  # audit kind: a lost deal that named no contact


# What lands on a rep's desk, and so counts against `max_tasks_per_owner_per_day`.
_REP_WORK = frozenset({"task", "draft"})


def encode_event(event: RejectionEvent, shard: str, prospect_key: str) -> dict[str, Any]:
    """A rejection as history keeps it: the person (and the others on the deal) by reference
    only, since the prospect's snapshot is stored once, in `prospects`; without what its row
    holds (id, shard, the person's key) or only its source needs (the cursor position)."""
    payload = dict(
        encode(
            replace(
                event,
                prospect=Prospect(event.prospect.ref),
                related=tuple(Prospect(p.ref) for p in event.related),
            )
        )
    )
    del payload["event_id"]
    payload.pop("position", None)
    if payload.get("shard") == shard:
        del payload["shard"]
    if event.prospect.ref.key == prospect_key:
        del payload["prospect"]
    return payload


def decode_event(
    payload: dict[str, Any],
    person: Prospect | None,
    shard: str,
    event_id: str = "",
    prospect_key: str = "",
) -> RejectionEvent:
    """A stored rejection, with the person as last seen, and what the row holds beside the
    payload: its id and person, and the shard that read it (also for events stored before
    schema 3)."""
    if "event_id" not in payload or "prospect" not in payload or not payload.get("shard"):
        payload = dict(payload)  # filled in before decoding: cheaper than a replace after
        payload.setdefault("event_id", event_id)
        payload.setdefault("prospect", {"ref": encode(ProspectRef.parse(prospect_key))})
        if not payload.get("shard"):
            payload["shard"] = shard
    event = decode(RejectionEvent, payload)
    if person is not None and person.ref == event.prospect.ref:
        event = replace(event, prospect=person)
    return event


class LeaseLost(RuntimeError):
    """Another instance owns this shard now; stop working on it."""


@dataclass(frozen=True)
class StoredHistory:
    prospect: Prospect | None
    rejections: tuple[RejectionEvent, ...]
    # (touch, state) of this person's plans; as history only: the brief is not loaded
    touches: tuple[tuple[Touch, str], ...]
    plan: Plan | None
    plan_context: dict[str, Any]
    suppressed: frozenset[Channel]
    review: ReviewHold | None = None  # an open review hold


@dataclass(frozen=True)
class PlannedTouch:
    plan_id: str
    prospect_key: str
    account_key: str | None
    touch: Touch
    context: dict[str, Any]
    prospect: Prospect | None
    plan_ref: int  # the plan's row id in the store


@dataclass(frozen=True)
class Materialisation:
    """The outcome of materialising one planned touch: an outbox row, or a cancellation."""

    plan_ref: int  # PlannedTouch.plan_ref
    seq: int
    key: str | None = None
    sink_shard: str | None = None
    spec: dict[str, Any] | None = None
    channel: str | None = None
    prospect_key: str = ""
    cancel_note: str | None = None


@dataclass(frozen=True)
class OutboxItem:
    key: str
    shard: str
    sink_shard: str
    prospect_key: str
    channel: str | None
    spec: dict[str, Any]
    status: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """How one outbox item ends a dispatch step."""

    key: str
    status: str  # done | pending | in_doubt | dead | cancelled
    next_attempt_at: float = 0.0
    remote_id: str | None = None
    error: str | None = None


class Store(OutboxOps, PlanOps, ReviewOps, OutcomeOps, PauseOps, LookupOps):
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.clock = clock

    @classmethod
    def open(
        cls,
        url: str,
        clock: Callable[[], float] = time.time,
        *,
        read_only: bool = False,
        instance: str | None = None,
    ) -> Store:
        """Open and migrate; `read_only` (explain, status) neither creates nor migrates:
        a missing or older database is a StoreNotReady naming the command that sets it up.
        `instance` (a daemon's owner id) names its PostgreSQL sessions (`live_instances`)."""
        if read_only:
            engine = open_existing(url)
            return cls(engine, clock)
        engine = create_db_engine(url, instance=instance)
        migrate(engine)
        return cls(engine, clock)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    # --- leases and fencing ------------------------------------------------------------------

    def acquire_shard(self, shard: str, owner: str, ttl_s: float) -> int | None:
        """Take (or keep) the shard's lease; returns the fencing epoch, None if held elsewhere.

        On SQLite the database is one host's file, so a new process always takes over (a
        restart after a crash must not wait for the dead process's lease); the epoch bump
        still fences out anything the old process might try to commit.
        """
        now = self.clock()
        single_host = self.engine.dialect.name == "sqlite"
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(t.shards).where(t.shards.c.name == shard).with_for_update()
            ).first()
            if row is None:
                conn.execute(
                    t.shards.insert(),
                    {"name": shard, "owner": owner, "lease_until": now + ttl_s, "epoch": 1},
                )
                return 1
            held = row.owner not in (None, owner) and (row.lease_until or 0) > now
            if held and not single_host:
                return None
            epoch = int(row.epoch) + (0 if row.owner == owner else 1)
            conn.execute(
                t.shards.update()
                .where(t.shards.c.name == shard)
                .values(owner=owner, lease_until=now + ttl_s, epoch=epoch)
            )
            return epoch

    def live_instances(self) -> int | None:
        """How many daemons (this one included) are connected to the PostgreSQL state store;
        None on SQLite, where one host runs one daemon."""
        if self.engine.dialect.name != "postgresql":
            return None
        with self.engine.connect() as conn:
            count = conn.execute(
                sa.text(
                    "SELECT count(DISTINCT application_name) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name LIKE :prefix"
                ),
                {"prefix": DAEMON_APP_PREFIX + "%"},
            ).scalar_one()
        return int(count) or None

    def renew_shard(self, shard: str, owner: str, epoch: int, ttl_s: float) -> bool:
        """Extend a lease we still hold (same owner and epoch); False once it was taken over."""
        now = self.clock()
        with self.engine.begin() as conn:
            done = conn.execute(
                t.shards.update()
                .where(
                    (t.shards.c.name == shard)
                    & (t.shards.c.owner == owner)
                    & (t.shards.c.epoch == epoch)
                )
                .values(lease_until=now + ttl_s)
            )
            return done.rowcount == 1

    def lease_left(self, shard: str, epoch: int) -> float | None:
        """Seconds left on the lease of `epoch`; None when that epoch no longer holds it."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.shards.c.epoch, t.shards.c.lease_until, t.shards.c.owner).where(
                    t.shards.c.name == shard
                )
            ).first()
        if row is None or int(row.epoch) != epoch or row.owner is None:
            return None
        return float(row.lease_until or 0.0) - self.clock()

    def release_shard(self, shard: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.shards.update()
                .where((t.shards.c.name == shard) & (t.shards.c.owner == owner))
                .values(owner=None, lease_until=None)
            )

    def _fence(self, conn: Connection, shard: str, epoch: int) -> None:
        done = conn.execute(
            t.shards.update()
            .where((t.shards.c.name == shard) & (t.shards.c.epoch == epoch))
            .values(last_cycle_at=self.clock())
        )
        if done.rowcount != 1:
            raise LeaseLost(f"shard {shard} lease lost (epoch {epoch} is stale)")

    def mark_success(self, shard: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.shards.update()
                .where(t.shards.c.name == shard)
                .values(last_success_at=self.clock(), failed_at=None)
            )

    def record_error(self, shard: str, error: str, *, failed: bool) -> None:
        """The error a cycle ended with; `failed`: the shard is stopped until fixed."""
        now = self.clock()
        values: dict[str, Any] = {"last_error": error[:500], "last_error_at": now}
        if failed:
            values["failed_at"] = now
        with self.engine.begin() as conn:
            done = conn.execute(t.shards.update().where(t.shards.c.name == shard).values(**values))
            if done.rowcount == 0:  # never cycled: no lease row yet
                conn.execute(t.shards.insert(), {"name": shard, "epoch": 0, **values})

    # --- reading ------------------------------------------------------------------------------

    def cursor(self, shard: str) -> Cursor | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.cursors).where(t.cursors.c.shard == shard)).first()
        return Cursor(row.value, frozenset(row.boundary_ids)) if row else None

    def seen(self, shard: str, event_ids: Iterable[str]) -> set[str]:
        """Which of these ids this shard has decided (another shard's equal ids don't count)."""
        ids = list(event_ids)
        if not ids:
            return set()
        with self.engine.connect() as conn:
            rows = fetch(
                conn,
                sa.select(t.events.c.event_id).where(
                    (t.events.c.shard == shard) & among(conn, t.events.c.event_id, ids)
                ),
            )
            return {r.event_id for r in rows}

    def history(self, keys: Sequence[str]) -> dict[str, StoredHistory]:
        """Everything known about these prospects, in seven queries whatever their number."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        with self.engine.connect() as conn:
            ids: dict[int, str] = {}  # prospects row id -> key
            people: dict[str, Prospect] = {}
            for r in fetch(
                conn,
                sa.select(
                    t.prospects.c.id,
                    t.prospects.c.key,
                    t.prospects.c.account_key,
                    t.prospects.c.snapshot,
                ).where(among(conn, t.prospects.c.key, keys)),
            ):
                ids[r.id] = r.key
                people[r.key] = decode(Prospect, unpack_prospect(r.snapshot, r.key, r.account_key))
            rejections: dict[str, list[RejectionEvent]] = defaultdict(list)
            for r in fetch(
                conn,
                sa.select(
                    t.events.c.prospect,
                    t.events.c.shard,
                    t.events.c.event_id,
                    t.events.c.payload,
                )
                .where(among(conn, t.events.c.prospect, list(ids)))
                .order_by(t.events.c.occurred_at),
            ):
                key = ids[r.prospect]
                rejections[key].append(
                    decode_event(r.payload, people.get(key), r.shard, r.event_id, key)
                )
            # every plan of theirs: plan id -> prospect key
            owners = plans_of(conn, {k: i for i, k in ids.items()})
            plans = {
                ids[r.prospect]: r
                for r in fetch(
                    conn,
                    sa.select(t.plans).where(
                        among(conn, t.plans.c.prospect, list(ids)) & (t.plans.c.status == "live")
                    ),
                )
            }
            # One read of the people's touches: those of the live plan whole (their briefs
            # too, a revision carries them over), every one as history.
            live = {r.id: r for r in plans.values()}
            shared: dict[int, str] = {}
            plan_touches: dict[int, list[Touch]] = defaultdict(list)
            touches: dict[str, list[tuple[Touch, str]]] = defaultdict(list)
            for tr in fetch(
                conn,
                sa.select(
                    t.touches.c.plan,
                    t.touches.c.seq,
                    t.touches.c.due,
                    t.touches.c.touch,
                    t.touches.c.state,
                )
                .where(
                    among(conn, t.touches.c.plan, list(owners)) & (t.touches.c.state != "cancelled")
                )
                .order_by(t.touches.c.seq),
            ):
                plan_row = live.get(tr.plan)
                if plan_row is not None and tr.plan not in shared:
                    shared[tr.plan] = unpack_brief(
                        plan_row.brief, ids[plan_row.prospect], plan_row.context
                    )
                touch = decode(Touch, unpack_touch(tr.touch, tr.due, tr.seq, shared.get(tr.plan)))
                if tr.plan in live:
                    plan_touches[tr.plan].append(touch)
                touches[owners[tr.plan]].append((touch, tr.state))
            suppressed = _suppressions(conn, keys)
            holds = self.open_holds(conn, keys)
        out: dict[str, StoredHistory] = {}
        for key in keys:
            plan_row = plans.get(key)
            plan = None
            if plan_row is not None:
                plan = Plan(
                    ProspectRef.parse(key),
                    plan_row.generation,
                    date.fromisoformat(plan_row.callback_on) if plan_row.callback_on else None,
                    tuple(plan_touches[plan_row.id]),
                )
            out[key] = StoredHistory(
                prospect=people.get(key),
                rejections=tuple(rejections[key]),
                touches=tuple(touches[key]),
                plan=plan,
                plan_context=dict(plan_row.context) if plan_row is not None else {},
                suppressed=suppressed.get(key, frozenset()),
                review=holds.get(key),
            )
        return out

    def account_touch_dues(
        self, account_keys: Sequence[str], since: date
    ) -> dict[str, list[tuple[str, Touch]]]:
        """(prospect key, touch) of the live touches at these accounts due on or after `since`
        (the policy's longest look-back), for account caps and entry-point repeats."""
        keys = [k for k in dict.fromkeys(account_keys) if k]
        out: dict[str, list[tuple[str, Touch]]] = defaultdict(list)
        if not keys:
            return out
        with self.engine.connect() as conn:
            at = plans_at(conn, keys)
            for r in fetch(
                conn,
                sa.select(t.touches.c.plan, t.touches.c.touch, t.touches.c.due, t.touches.c.seq)
                .where(
                    among(conn, t.touches.c.plan, list(at))
                    & (t.touches.c.state != "cancelled")
                    & (t.touches.c.due >= since.isoformat())
                )
                .order_by(t.touches.c.due, t.touches.c.plan, t.touches.c.seq),
            ):
                prospect_key, account_key = at[r.plan]
                out[account_key].append(
                    (prospect_key, decode(Touch, unpack_touch(r.touch, r.due, r.seq)))
                )
        return out

    def owner_task_dues(self, owner_ids: Sequence[str], since: date) -> dict[str, list[date]]:
        """Due dates of every live syncd task (and draft) of these owners from `since` on:
        what the per-owner daily cap counts before a page adds its own."""
        ids = [k for k in dict.fromkeys(owner_ids) if k]
        out: dict[str, list[date]] = defaultdict(list)
        if not ids:
            return out
        with self.engine.connect() as conn:
            for r in fetch(
                conn,
                sa.select(t.touches.c.owner_id, t.touches.c.due, t.touches.c.touch).where(
                    among(conn, t.touches.c.owner_id, ids)
                    & (t.touches.c.state != "cancelled")
                    & (t.touches.c.due >= since.isoformat())
                ),
            ):
                if r.touch.get("write") in _REP_WORK:
                    out[r.owner_id].append(date.fromisoformat(r.due))
        return out

    def suppressed(self, keys: Iterable[str]) -> dict[str, frozenset[Channel]]:
        ids = list(set(keys))
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return _suppressions(conn, ids)

    # --- one transaction per page ---------------------------------------------------------------

    def commit_page(
        self,
        shard: str,
        epoch: int,
        cursor: Cursor,
        decided: Sequence[tuple[RejectionEvent, Decision, dict[str, Any]]],
        reengaged: Sequence[Reengagement] = (),
    ) -> None:
        """Persist the page's events, decisions and plans together with the new cursor, and
        the re-engagements (interested replies of nurtured prospects) they showed."""
        now = self.clock()
        events = []
        snapshots: dict[str, dict[str, Any]] = {}  # the last of a person's decisions wins
        changes = []
        contactless: list[dict[str, Any]] = []
        for event, decision, context in decided:
            key = decision.prospect.key
            account = event.prospect.account
            account_key = account.ref.key if account else None
            events.append(
                {
                    "event_id": event.event_id,
                    "shard": shard,
                    "prospect": key,  # its prospects row's id, once that row is written
                    "occurred_at": event.occurred_at.timestamp(),
                    "processed_at": now,
                    "payload": encode_event(
                        event if event.shard else replace(event, shard=shard), shard, key
                    ),
                }
            )
            if event.contact_fallback is not None:  # never silent: `syncd status` counts these
                contactless.append(
                    {
                        "at": now,
                        "shard": shard,
                        "kind": CONTACTLESS,
                        "subject": key,
                        "data": {
                            "fallback": event.contact_fallback.value,
                            "event_id": event.event_id,
                            "opportunity_id": event.opportunity_id,
                        },
                    }
                )
            snapshots[key] = {
                "key": key,
                "shard": shard,
                "account_key": account_key,
                "outcome": decision.outcome.value,
                "snapshot": pack_prospect(encode(event.prospect), key, account_key),
                "updated_at": now,
            }
            changes.append(Change(key, account_key, decision, context, event.event_id))
        with self.engine.begin() as conn:
            self._fence(conn, shard, epoch)
            for found in reengaged:  # first: the decisions' own urgent task must stay
                self.record_reengagement(conn, shard, found, now)
            upsert(conn, t.prospects, list(snapshots.values()), ["key"])
            ids = {
                r.key: r.id
                for r in fetch(
                    conn,
                    sa.select(t.prospects.c.id, t.prospects.c.key).where(
                        among(conn, t.prospects.c.key, list(snapshots))
                    ),
                )
            }
            execute_rows(
                conn, t.events.insert(), [{**e, "prospect": ids[e["prospect"]]} for e in events]
            )
            apply_changes(conn, shard, changes, now, self._settle_reviews)
            execute_rows(conn, t.audit.insert(), contactless)
            self._set_cursor(conn, shard, cursor, now)

    def _set_cursor(self, conn: Connection, shard: str, cursor: Cursor, now: float) -> None:
        row = {
            "shard": shard,
            "value": cursor.value,
            "boundary_ids": sorted(cursor.boundary_ids),
            "updated_at": now,
        }
        upsert(conn, t.cursors, [row], ["shard"])

    def contactless_counts(self, shard: str) -> dict[str, int]:
        """Lost deals of this shard that named no contact, by the fallback used."""
        counts: dict[str, int] = defaultdict(int)
        with self.engine.connect() as conn:
            for (data,) in conn.execute(
                sa.select(t.audit.c.data).where(
                    (t.audit.c.shard == shard) & (t.audit.c.kind == CONTACTLESS)
                )
            ):
                counts[str(data.get("fallback"))] += 1
        return dict(counts)

    def dead_letter_record(self, shard: str, record_id: str, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.dead_letters.insert(),
                {
                    "at": self.clock(),
                    "shard": shard,
                    "kind": "record",
                    "ref": record_id,
                    "error": scrub(error)[:500],
                },
            )


def _suppressions(conn: Connection, keys: list[str]) -> dict[str, frozenset[Channel]]:
    """The channels each of these people opted out of (only those with some)."""
    found: dict[str, set[Channel]] = defaultdict(set)
    for r in fetch(
        conn, sa.select(t.suppressions).where(among(conn, t.suppressions.c.prospect_key, keys))
    ):
        found[r.prospect_key].add(Channel(r.channel))
    return {k: frozenset(v) for k, v in found.items()}
