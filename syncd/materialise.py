"""Just-in-time materialisation: planned touches due within the horizon enter the outbox.

Only at this moment does a touch become a write, and only after re-checking what is true now:
the person's (and, for a touch about a colleague, that colleague's) current opt-outs from the
CRM and syncd's suppression list, whether a rep is already working them, and whether the
account still fits — the policy's `recheck`, fed with fresh directory data in one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from syncd.logging import LEVELS
from syncd.model import (
    Channel,
    History,
    Prospect,
    ProspectRef,
    TouchKind,
    TouchSpec,
    touch_key,
)
from syncd.owners import with_plan_owner
from syncd.policy import recheck
from syncd.store import Materialisation, PlannedTouch, StoredHistory
from syncd.store.codec import encode

if TYPE_CHECKING:
    from syncd.connectors import Directory
    from syncd.engine import CycleSummary, Engine

log = structlog.get_logger(__name__)
BATCH = 500  # due touches per look-up and transaction: memory stays flat however many are due
# Ids a mailbox gives senders the CRM does not know (unknown_senders = "create_lead")
NEW_RECORD_PREFIX = "new:"


class Materialiser:
    def __init__(self, engine: Engine, shard: str, epoch: int):
        self.engine = engine
        self.shard = shard
        self.epoch = epoch

    def run(self, summary: CycleSummary) -> None:
        """Every due touch, a batch at a time (each batch settles its touches, so the next
        look-up starts after it)."""
        now = self.engine.clock()
        horizon = now.date() + timedelta(days=self.engine.config.core.policy.horizon_days)
        store = self.engine.store
        paused = store.paused()
        held = store.count_paused_due(
            self.shard,
            horizon,
            paused.prospects,
            paused.accounts,
            whole_shard=self.shard in paused.shards,
        )
        if held:  # left planned: they are moved on when the pause ends (`syncd resume`)
            summary.paused += held
            log.info("touch.paused", shard=self.shard, count=held)
        if self.shard in paused.shards:
            return
        # A dry run settles nothing, so it previews every due touch in one pass.
        limit = None if self.engine.dry_run else BATCH
        while not self.engine.stop_requested():
            due = store.due_touches(
                self.shard,
                horizon,
                limit,
                skip_prospects=paused.prospects,
                skip_accounts=paused.accounts,
            )
            if not due:
                return
            self._batch(due, now, summary)
            self.engine.heartbeat()
            if limit is None:
                return

    def _batch(self, due: list[PlannedTouch], now: datetime, summary: CycleSummary) -> None:
        refs = {ProspectRef.parse(p.prospect_key) for p in due}
        refs |= {p.touch.target for p in due if p.touch.target is not None}
        fresh, active, gone = self._lookups(sorted(refs, key=lambda r: r.key))
        keys = [r.key for r in refs]
        stored = self.engine.store.history(keys)
        suppressed = self.engine.store.suppressed(keys)
        items = []
        for planned in due:
            item = self._one(planned, fresh, active, stored, suppressed, now, gone)
            items.append(item)
            if item.cancel_note and planned.touch.kind is TouchKind.REVIEW:
                # Nobody can be asked to read the reply: the person stays held and listed.
                log.warning(
                    "review.task_unwritable",
                    shard=self.shard,
                    prospect=planned.prospect_key,
                    reason=item.cancel_note,
                )
            if item.cancel_note:
                summary.cancelled += 1
                log.log(
                    LEVELS["debug" if self.engine.dry_run else "info"],
                    "touch.cancelled",
                    shard=self.shard,
                    prospect=planned.prospect_key,
                    plan_id=planned.plan_id,
                    seq=planned.touch.seq,
                    reason=item.cancel_note,
                )
        if self.engine.dry_run:  # a preview: say what would be written, change nothing
            summary.due.extend(_preview(p, m) for p, m in zip(due, items, strict=True))
            return
        summary.materialised += self.engine.store.materialise(self.shard, self.epoch, items)

    def _lookups(
        self, refs: Sequence[ProspectRef]
    ) -> tuple[dict[str, Prospect], set[str], set[str]]:
        """(people as the CRM has them now, those being worked, those the CRM no longer has)."""
        directory = self.engine.directory(self.shard)
        if directory is None:
            return {}, set(), set()
        people = directory.prospects(refs)
        active = directory.active(refs)
        return (
            {r.key: p for r, p in people.items()},
            {r.key for r in active},
            {r.key for r in refs if r not in people and absent_means_deleted(directory, r)},
        )

    def _one(
        self,
        planned: PlannedTouch,
        fresh: dict[str, Prospect],
        active: set[str],
        stored: dict[str, StoredHistory],
        suppressed: dict[str, frozenset[Channel]],
        now: datetime,
        gone: set[str],
    ) -> Materialisation:
        touch = planned.touch
        key = planned.prospect_key
        # The plan's assignee, not the fresh record's owner: dates were placed in their calendar.
        person = with_plan_owner(fresh.get(key) or planned.prospect, planned.context)
        target_key = touch.target.key if touch.target else key
        target = fresh.get(target_key) or (person if touch.target is None else None)
        known = stored.get(key)
        history = History(
            prospect=person,
            rejections=known.rejections if known else (),
            plan=known.plan if known else None,
            suppressed=known.suppressed if known else frozenset(),
            active=key in active,
            colleagues=(target,) if touch.target is not None and target is not None else (),
            review=known.review if known else None,
        )
        cancel = recheck(touch, history, self.engine.config.core.policy, now)
        if target_key in gone:
            # Deleted or merged away in the CRM (an erasure request, a clean-up): no write
            # about them can succeed, and none should be tried, opt-outs included.
            cancel = "crm_record_gone"
        if cancel is None and ProspectRef.parse(target_key).id.startswith(NEW_RECORD_PREFIX):
            cancel = "no_crm_record"  # a sender the CRM does not know yet: nobody to task
        if (
            cancel is None
            and touch.target is not None
            and touch.suppress_channel in suppressed.get(target_key, frozenset())
        ):
            cancel = "target_suppressed"
        target_known = stored.get(target_key)
        if cancel is None and touch.target is not None and target_known and target_known.review:
            cancel = "target_held_for_review"  # a colleague's plan never reaches past it either
        source_shard = str(planned.context.get("source_shard", self.shard))
        sink_shard = self.engine.sink_for(source_shard, touch.write)
        if cancel is None and sink_shard is None:
            cancel = f"no_sink.{touch.write.value}"
        if cancel is not None:
            return Materialisation(planned.plan_ref, touch.seq, cancel_note=cancel)
        assert sink_shard is not None
        spec = build_spec(self.shard, planned, person, target, max(touch.due, now.date()))
        return Materialisation(
            planned.plan_ref,
            touch.seq,
            key=spec.key,
            sink_shard=sink_shard,
            spec=encode(spec),
            prospect_key=target_key,
            channel=touch.suppress_channel.value if touch.suppress_channel else None,
        )


def absent_means_deleted(directory: Directory, ref: ProspectRef) -> bool:
    """Whether the directory vouches that a person it did not return no longer exists. A
    directory says so with an optional `absent_means_deleted(ref)`; without it, absence
    proves nothing (a directory may not look every kind of person up)."""
    check = getattr(directory, "absent_means_deleted", None)
    return bool(check(ref)) if callable(check) else False


def build_spec(
    shard: str, planned: PlannedTouch, person: Prospect | None, target: Prospect | None, due: date
) -> TouchSpec:
    """The write request: the rep who owns the relationship, about the person to contact."""
    touch = planned.touch
    reply = planned.context.get("reply") or {}
    owner = person.owner if person else None
    account = person.account if person else None
    return TouchSpec(
        key=touch_key(shard, planned.prospect_key, planned.plan_id, touch.seq),
        write=touch.write,
        prospect=touch.target or ProspectRef.parse(planned.prospect_key),
        due=due,
        subject=touch.subject,
        body=touch.brief,
        channel=touch.channel,
        priority=touch.priority,
        owner_id=owner.id if owner else None,
        account_id=account.ref.id if account else None,
        opportunity_id=planned.context.get("opportunity_id"),
        opt_out_channels=touch.opt_out_channels,
        to_email=target.email if target else None,
        thread_id=reply.get("thread_id"),
        in_reply_to=reply.get("message_id"),
        references=reply.get("references") or reply.get("message_id"),
        thread_subject=reply.get("subject"),
        reply_id=reply.get("mailbox_id") or None,
    )


def _preview(planned: PlannedTouch, item: Materialisation) -> dict[str, Any]:
    """One touch the day's materialisation would write (or cancel, and why)."""
    touch = planned.touch
    return {
        "prospect": planned.prospect_key,
        "plan_id": planned.plan_id,
        "seq": touch.seq,
        "kind": touch.kind.value,
        "write": touch.write.value,
        "due": touch.due.isoformat(),
        "rule": touch.rule_id,
        "sink": item.sink_shard,
        "key": item.key,
        "cancelled": item.cancel_note,
    }
