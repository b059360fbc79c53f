"""One cycle of one shard: read, decide, persist, materialise, write.

Read pages from the stored cursor; for each page look the people up in batches, decide every
event with the policy and commit decisions, plans and the new cursor in one transaction.
Then turn touches due within the horizon into outbox rows (after re-checking suppression and
active conversation at that moment) and push outbox batches through the sink with the write
protocol in syncd/store/outbox.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

from syncd import policy
from syncd.clock import Clock, system_clock
from syncd.config import LoadedConfig
from syncd.connectors import Connector, Directory, SkippableRecordError
from syncd.dispatch import Dispatcher
from syncd.holds import HoldCheck
from syncd.logging import LEVELS
from syncd.materialise import Materialiser
from syncd.model import (
    AccountRef,
    Cursor,
    Decision,
    History,
    Intent,
    Outcome,
    Page,
    Prospect,
    Reengagement,
    RejectionEvent,
    TouchRecord,
    WriteKind,
)
from syncd.ownerload import DEFERRED_NOTE, OwnerLoad
from syncd.owners import assign_owners, owner_context
from syncd.prefetch import ReadAhead
from syncd.progress import Progress
from syncd.reengage import interested_replies, read_new_opportunities
from syncd.review import Reviewer
from syncd.store import Store, StoredHistory

log = structlog.get_logger(__name__)


@dataclass
class CycleSummary:
    shard: str
    events: int = 0
    skipped: int = 0  # already processed (re-read at the cursor boundary)
    decisions: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    reviews: Counter[str] = field(default_factory=Counter)  # plans revised by the daily review
    contactless: Counter[str] = field(default_factory=Counter)  # lost deals naming no contact
    writes: Counter[str] = field(default_factory=Counter)
    materialised: int = 0
    cancelled: int = 0
    # Re-engagements recorded: (kind, loss reason, worth tier) -> count, and -> amount
    reengaged: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    pipeline: dict[tuple[str, str, str], float] = field(default_factory=dict)
    purged: int = 0  # audit and finished outbox rows past their retention
    holds_resolved: int = 0  # review holds a rep resolved in the CRM
    cursor: str | None = None
    durations: dict[str, float] = field(default_factory=dict)
    planned: list[dict[str, Any]] = field(default_factory=list)  # dry run: what would be written
    # dry run: touches already planned that the day's materialisation would write
    due: list[dict[str, Any]] = field(default_factory=list)
    paused: int = 0  # due touches held back because their prospect, account or shard is paused
    # prospect keys held for a rep's review after the cycle (a dry run: as it would leave them)
    held_for_review: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "skipped": self.skipped,
            "decisions": dict(self.decisions),
            "rules": dict(self.rules),
            "reviews": dict(self.reviews),
            "contactless": dict(self.contactless),
            "writes": {k: self.writes.get(k, 0) for k in ("ok", "in_doubt", "dead")}
            | {k: v for k, v in self.writes.items() if k not in ("ok", "in_doubt", "dead")},
            "materialised": self.materialised,
            "cancelled": self.cancelled,
            "reengaged": sum(self.reengaged.values()),
            "purged": self.purged,
            "paused": self.paused,
            "holds_resolved": self.holds_resolved,
            "cursor": self.cursor,
            "durations_s": {k: round(v, 3) for k, v in self.durations.items()},
        }


@dataclass(frozen=True)
class Lookups:
    """The directory's answers for one page: owners, who has open work, who works at the
    accounts."""

    active: frozenset[str] = frozenset()  # prospect keys
    colleagues: dict[AccountRef, list[Prospect]] = field(default_factory=dict)
    # event id -> the event (shard set, owner assigned) and how its owner was chosen
    assigned: dict[str, tuple[RejectionEvent, str]] = field(default_factory=dict)


class Engine:
    def __init__(
        self,
        config: LoadedConfig,
        store: Store,
        connectors: dict[str, Connector],
        *,
        clock: Clock = system_clock,
        dry_run: bool = False,
    ):
        self.config = config
        self.store = store
        self.connectors = connectors
        self.clock = clock
        self.dry_run = dry_run
        self.epochs: dict[str, int] = {}
        # Set by the daemon on SIGTERM: finish the page / batch in hand, then stop the cycle.
        self.stop_requested: Callable[[], bool] = lambda: False
        # Called after every page and write batch: the daemon pings systemd's watchdog from it,
        # so a long backfill is not mistaken for a hang (it runs on the main thread).
        self.heartbeat: Callable[[], None] = lambda: None
        # `decision.made` lines: info for the journal, debug where a person reads a report
        self.decision_level = "info"

    # --- routing -----------------------------------------------------------------------------

    def _crm(self, shard: str) -> str:
        return self.config.shards[shard].core.crm or shard

    def directory(self, shard: str) -> Directory | None:
        for name in (shard, self._crm(shard)):
            conn = self.connectors.get(name)
            if conn is not None and conn.directory is not None:
                return conn.directory
        return None

    def sink_for(self, shard: str, write: WriteKind) -> str | None:
        """Drafts go to the mailbox the reply came from; everything else to the CRM."""
        for name in (shard, self._crm(shard)):
            conn = self.connectors.get(name)
            if conn is not None and conn.sink is not None and write in conn.sink.supports:
                return name
        return None

    # --- the cycle ---------------------------------------------------------------------------

    def cycle(self, shard: str) -> CycleSummary:
        """One cycle; every event logged during it (connectors' too) carries `shard`."""
        with bound_contextvars(shard=shard):
            return self._cycle(shard)

    def _cycle(self, shard: str) -> CycleSummary:
        summary = CycleSummary(shard)
        conn = self.connectors[shard]
        epoch = self.epochs.get(shard, 0)
        started = time.monotonic()
        if conn.source is not None:
            self._read(shard, conn, epoch, summary)
        if conn.reengagements is not None and not self.dry_run and not self.stop_requested():
            found = read_new_opportunities(
                self.store,
                shard,
                epoch,
                conn.reengagements,
                self._lag_until(shard),
                self.config.core.policy,
                self.heartbeat,
            )
            count_reengagements(summary, found)
        summary.durations["read"] = time.monotonic() - started
        mark = time.monotonic()
        if self.dry_run:  # what the state already plans for the day, written nowhere
            self.materialise(shard, epoch, summary)
        elif not self.stop_requested():
            HoldCheck(self, shard, epoch).run(summary)
            self.review(shard, epoch, summary)
            self.materialise(shard, epoch, summary)
            summary.durations["materialise"] = time.monotonic() - mark
            mark = time.monotonic()
            self.dispatch(shard, summary)
            summary.durations["dispatch"] = time.monotonic() - mark
            summary.purged = self.purge(shard)
        held = set(self.store.held_for_review(shard))
        if self.dry_run:  # as the decisions of this run would leave them
            held |= {p["prospect"] for p in summary.planned if p["outcome"] == Outcome.REVIEW}
            held -= {p["prospect"] for p in summary.planned if p.get("resolves_review")}
        summary.held_for_review = sorted(held)
        summary.durations["total"] = time.monotonic() - started
        log.info(
            "cycle.summary",
            shard=shard,
            dry_run=self.dry_run,
            held_for_review=len(held),
            **summary.as_dict(),
        )
        return summary

    def dispatch(self, shard: str, summary: CycleSummary) -> None:
        conn = self.connectors.get(shard)
        if conn is None or conn.sink is None or self.dry_run:
            return
        with bound_contextvars(shard=shard):
            self._dispatcher(shard, conn).run(summary.writes)

    def _dispatcher(self, shard: str, conn: Connector) -> Dispatcher:
        assert conn.sink is not None
        return Dispatcher(
            self.store,
            shard,
            self.epochs.get(shard, 0),
            conn.sink,
            self.config.core.engine,
            self.clock,
            stop_requested=self.stop_requested,
            heartbeat=self.heartbeat,
        )

    def purge(self, shard: str) -> int:
        """Retention: old audit rows and finished outbox rows go (state.*_retention_days)."""
        state = self.config.core.state
        now = self.clock().timestamp()

        def before(days: float) -> float | None:
            return now - days * 86_400 if days > 0 else None

        return self.store.purge(
            shard, before(state.audit_retention_days), before(state.outbox_retention_days)
        )

    def _lag_until(self, shard: str) -> datetime:
        lag = self.config.shards[shard].core.lag_s
        if lag is None:
            lag = self.config.core.engine.lag_s
        return self.clock() - timedelta(seconds=lag)

    def _read(self, shard: str, conn: Connector, epoch: int, summary: CycleSummary) -> None:
        assert conn.source is not None
        cursor = self.store.cursor(shard)
        # A first read is a backfill that may take hours: show it moving.
        progress = Progress(None, log=log.bind(shard=shard)) if cursor is None else None
        try:
            self._pages(shard, conn, epoch, cursor, summary, progress)
        finally:
            if progress is not None:
                progress.close()

    def _pages(
        self,
        shard: str,
        conn: Connector,
        epoch: int,
        cursor: Cursor | None,
        summary: CycleSummary,
        progress: Progress | None,
    ) -> None:
        source = conn.source
        assert source is not None
        until = self._lag_until(shard)
        directory = self.directory(shard)

        def fetch() -> Iterator[tuple[Page, Lookups]]:
            for page in source.read(cursor, until):
                yield page, self._lookups(shard, directory, page.events)

        ack = getattr(source, "acknowledge", None)
        # A source that acknowledges pages (a mailbox labels what it read) is read in step:
        # its client is not shared between threads. Others read ahead by one page.
        reader = nullcontext(fetch()) if callable(ack) else ReadAhead(fetch, name=shard)
        with reader as pages:
            for page, lookups in pages:
                self._page(shard, epoch, page, lookups, summary)
                self.heartbeat()
                if progress is not None:
                    progress.advance(read=len(page.events))
                summary.cursor = page.cursor.value
                if not self.dry_run and callable(ack) and page.events:
                    ack(page.events)
                if self.stop_requested():
                    return

    def _lookups(
        self, shard: str, directory: Directory | None, page: Sequence[RejectionEvent]
    ) -> Lookups:
        """What the CRM says now about a page's people (their owners, open work, colleagues):
        the calls made on the read-ahead thread. Events seen before need none."""
        seen = self.store.seen(shard, (e.event_id for e in page))
        fresh = [replace(e, shard=shard) for e in page if e.event_id not in seen]
        if not fresh:
            return Lookups()
        assigned = self._assign(shard, fresh)
        events = [event for event, _ in assigned]
        by_id = {event.event_id: (event, how) for event, how in assigned}
        if directory is None:
            return Lookups(assigned=by_id)
        refs = list({e.prospect.ref for e in events})
        accounts = {e.prospect.account.ref for e in events if e.prospect.account}
        active = directory.active(refs)
        colleagues = directory.colleagues(sorted(accounts, key=lambda a: a.id)) if accounts else {}
        return Lookups(frozenset(r.key for r in active), colleagues, by_id)

    def _assign(
        self, shard: str, events: Sequence[RejectionEvent]
    ) -> list[tuple[RejectionEvent, str]]:
        """Each event with its task's assignee (one owner look-up for all of them)."""
        if not events:
            return []
        core = self.config.shards[shard].core
        crm = self.config.shards.get(self._crm(shard))
        return assign_owners(shard, events, self.directory(shard), core, crm.core if crm else core)

    def _page(
        self, shard: str, epoch: int, page: Page, lookups: Lookups, summary: CycleSummary
    ) -> None:
        """Decide one page and commit it. Nothing outlives the page (memory stays flat however
        long the backfill): a later page reads what this one committed from the store, and
        `overlay` only carries a person's history to their next event within the page."""
        overlay: dict[str, History] = {}
        for record_id, why in page.unreadable:
            log.warning("record.unreadable", shard=shard, record_id=record_id, error=why)
            if not self.dry_run:
                self.store.dead_letter_record(shard, record_id, why)
        seen = self.store.seen(shard, (e.event_id for e in page.events))
        fresh = [e for e in page.events if e.event_id not in seen]
        summary.skipped += len(page.events) - len(fresh)
        summary.events += len(fresh)
        # owners were assigned on the read-ahead thread; any it did not see are done here
        missing = [replace(e, shard=shard) for e in fresh if e.event_id not in lookups.assigned]
        extra = {e.event_id: (e, how) for e, how in self._assign(shard, missing)}
        assigned = [lookups.assigned.get(e.event_id) or extra[e.event_id] for e in fresh]
        events = first_things_first([event for event, _ in assigned])
        owner_via = {event.event_id: how for event, how in assigned}
        stored = self.store.history([e.prospect.ref.key for e in events])
        histories = self._histories(events, stored, lookups)
        now = self.clock()
        load = self.owner_load(
            [e.prospect.owner.id for e in events if e.prospect.owner], now.date()
        )
        decided: list[tuple[RejectionEvent, Decision, dict[str, Any]]] = []
        before: list[tuple[RejectionEvent, Decision, History]] = []
        for event in events:
            key = event.prospect.ref.key
            history = overlay.get(key) or histories[key]
            if load is not None:
                history = replace(history, owner_load=load)
            if event.contact_fallback is not None:
                summary.contactless[event.contact_fallback.value] += 1
                log.warning(
                    "loss.without_contacts",
                    shard=shard,
                    event_id=event.event_id,
                    opportunity_id=event.opportunity_id,
                    fallback=event.contact_fallback.value,
                    prospect=key,
                )
            try:
                decision = policy.decide(event, history, self.config.core.policy, now)
            except SkippableRecordError as exc:
                log.warning("record.skipped", shard=shard, event_id=event.event_id, error=str(exc))
                if not self.dry_run:
                    self.store.dead_letter_record(shard, event.event_id, str(exc))
                continue
            context = self._context(shard, event) | owner_context(
                event.prospect, owner_via[event.event_id]
            )
            decided.append((event, decision, context))
            before.append((event, decision, history))
            overlay[key] = _advance(history, event, decision)
            summary.decisions[decision.outcome.value] += 1
            summary.rules.update(hit.rule_id for hit in decision.rules)
            log.log(
                LEVELS[self.decision_level],
                "decision.made",
                shard=shard,
                prospect=key,
                event_id=event.event_id,
                outcome=decision.outcome.value,
                rules=[h.rule_id for h in decision.rules],
                plan_id=decision.plan.plan_id if decision.plan else None,
            )
            if self.dry_run:
                summary.planned.append(self._preview(shard, event, decision, now.date(), context))
        if not self.dry_run:
            back = interested_replies(stored, before, self.config.core.policy)
            self.store.commit_page(shard, epoch, page.cursor, decided, back)
            count_reengagements(summary, back)

    def _context(self, shard: str, event: RejectionEvent) -> dict[str, Any]:
        context: dict[str, Any] = {"source_shard": shard, "opportunity_id": event.opportunity_id}
        if event.reply is not None:
            context["reply"] = {
                "message_id": event.reply.message_id,
                "thread_id": event.reply.thread_id,
                "subject": event.reply.subject,
                "references": event.reply.references,
                "mailbox_id": event.reply.mailbox_id,
            }
        return context

    def owner_load(self, owner_ids: Sequence[str], today: date) -> OwnerLoad | None:
        """These owners' task counts per day from today, when a daily cap is configured."""
        cap = self.config.core.policy.cadence.max_tasks_per_owner_per_day
        if not cap:
            return None
        load = OwnerLoad(cap)
        owners = sorted(set(owner_ids))
        for owner, dues in self.store.owner_task_dues(owners, today).items():
            load.load(owner, dues)
        return load

    def _lookback_days(self) -> int:
        """How far back the policy looks at an account's touches (caps, entry-point repeats)."""
        cfg = self.config.core.policy
        return 1 + max(
            cfg.cadence.account_window_days,
            cfg.cadence.person_window_days,
            cfg.entry_points.repeat_after_days,
        )

    def _histories(
        self,
        events: Sequence[RejectionEvent],
        stored: Mapping[str, StoredHistory],
        lookups: Lookups,
    ) -> dict[str, History]:
        """Everything the policy needs about these people (`stored`: what the store knows of
        them), in a fixed number of calls."""
        accounts = {e.prospect.account.ref for e in events if e.prospect.account}
        account_touches = self.store.account_touch_dues(
            [a.key for a in accounts], self.clock().date() - timedelta(days=self._lookback_days())
        )
        out: dict[str, History] = {}
        for event in events:
            key = event.prospect.ref.key
            account = event.prospect.account
            out[key] = _history(
                stored.get(key),
                event,
                key in lookups.active,
                lookups.colleagues.get(account.ref, []) if account else [],
                account_touches.get(account.ref.key, []) if account else [],
            )
        return out

    # --- upkeep -------------------------------------------------------------------------------

    def materialise(self, shard: str, epoch: int, summary: CycleSummary) -> None:
        Materialiser(self, shard, epoch).run(summary)

    def review(self, shard: str, epoch: int, summary: CycleSummary) -> None:
        Reviewer(self, shard, epoch).run(summary)

    def _preview(
        self,
        shard: str,
        event: RejectionEvent,
        decision: Decision,
        today: date,
        context: dict[str, Any],
    ) -> dict[str, Any]:
        horizon = today + timedelta(days=self.config.core.policy.horizon_days)
        touches = decision.plan.touches if decision.plan else ()
        owner = context.get("owner") or {}
        return {
            "prospect": decision.prospect.key,
            "event_id": event.event_id,
            "owner": owner.get("id"),
            "owner_timezone": owner.get("timezone"),
            "owner_via": context.get("owner_via"),
            "outcome": decision.outcome.value,
            "rules": [h.rule_id for h in decision.rules],
            "resolves_review": decision.resolved is not None,
            "touches": [
                {
                    "seq": t.seq,
                    "kind": t.kind.value,
                    "write": t.write.value,
                    "due": t.due.isoformat(),
                    "rule": t.rule_id,
                    "sink": self.sink_for(shard, t.write),
                    "now": t.due <= horizon,
                    "deferred": t.brief.startswith(DEFERRED_NOTE),
                }
                for t in touches
            ],
        }


def _history(
    stored: StoredHistory | None,
    event: RejectionEvent | None,
    active: bool,
    colleagues: Sequence[Prospect],
    account_touches: Sequence[Any],
) -> History:
    me = event.prospect.ref if event else None
    account_key = event.prospect.account.ref.key if event and event.prospect.account else None
    touches = tuple(
        TouchRecord(t.kind, t.channel, t.due, me.key if me else "", account_key)
        for t, _ in (stored.touches if stored else ())
    )
    return History(
        prospect=stored.prospect if stored else None,
        rejections=stored.rejections if stored else (),
        touches=touches,
        account_touches=tuple(
            TouchRecord(t.kind, t.channel, t.due, pkey, account_key) for pkey, t in account_touches
        ),
        plan=stored.plan if stored else None,
        suppressed=stored.suppressed if stored else frozenset(),
        active=active,
        colleagues=tuple(c for c in colleagues if me is None or c.ref != me),
        review=stored.review if stored else None,
    )


def _advance(history: History, event: RejectionEvent, decision: Decision) -> History:
    """The history as it stands after `decision`, for a later event of the same page."""
    plan = (
        decision.plan
        if decision.plan is not None
        else (None if decision.cancel_plan else history.plan)
    )
    planned = tuple(
        TouchRecord(t.kind, t.channel, t.due, decision.prospect.key)
        for t in (decision.plan.touches if decision.plan else ())
    )
    return History(
        prospect=event.prospect,
        rejections=(*history.rejections, event),
        touches=history.touches + planned,
        account_touches=history.account_touches,
        plan=plan,
        suppressed=history.suppressed | decision.suppress,
        active=history.active,
        colleagues=history.colleagues,
        owner_load=history.owner_load,
        review=decision.hold or (None if decision.resolved else history.review),
    )


def count_reengagements(summary: CycleSummary, found: Sequence[Reengagement]) -> None:
    for r in found:
        labels = (r.kind, r.loss_reason, r.worth_tier)
        summary.reengaged[labels] += 1
        summary.pipeline[labels] = summary.pipeline.get(labels, 0.0) + (r.amount or 0.0)


def first_things_first(events: list[RejectionEvent]) -> list[RejectionEvent]:
    """Urgent prospects first (an interested reply), then by worth, highest first, so the
    per-owner daily cap gives the earliest days to what matters most. A prospect's own
    events keep their order: each is decided on the history the earlier ones left."""
    rank: dict[str, tuple[bool, float, int]] = {}
    for index, event in enumerate(events):
        key = event.prospect.ref.key
        urgent = event.reply is not None and event.reply.intent is Intent.INTERESTED
        worth = event.amount or 0.0
        was = rank.get(key)
        if was is None:
            rank[key] = (not urgent, -worth, index)
        else:
            rank[key] = (was[0] and not urgent, min(was[1], -worth), was[2])
    return sorted(events, key=lambda e: rank[e.prospect.ref.key])


__all__ = ["CycleSummary", "Engine"]
