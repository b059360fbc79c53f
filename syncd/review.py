"""The daily review of live plans: the policy's chance to act without a new "no".

Once a day per live plan the policy's `review` looks at the prospect as the CRM has them now:
a call-back that passed unanswered starts the next cycle, a release that answers their no adds
a "we improved" touch, an account that no longer fits or a conversation that opened ends the
plan. Plans are reviewed in bounded batches so a large book never stalls a cycle.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import structlog

from syncd.model import AccountRef, Decision, History, Prospect, ProspectRef, TouchRecord
from syncd.owners import plan_owner, with_plan_owner
from syncd.policy import review

if TYPE_CHECKING:
    from syncd.engine import CycleSummary, Engine

log = structlog.get_logger(__name__)
BATCH = 500  # plans per look-up and transaction
# People as the CRM has them now, by key, and the keys of those being worked: what the
# hold check already read, so resolving its holds does not ask the CRM again.
Seen = tuple[dict[str, Prospect], set[str]]


class Reviewer:
    def __init__(self, engine: Engine, shard: str, epoch: int, max_batches: int = 5):
        self.engine = engine
        self.shard = shard
        self.epoch = epoch
        self.max_batches = max_batches

    def run(self, summary: CycleSummary) -> None:
        today = self.engine.clock().date()
        for _ in range(self.max_batches):
            due = self.engine.store.plans_to_review(self.shard, today, BATCH)
            if not due or self.engine.stop_requested():
                return
            self._batch([key for _, key in due], [plan for plan, _ in due], summary)
            self.engine.heartbeat()

    def resolve(
        self, resolutions: dict[str, str], summary: CycleSummary, seen: Seen | None = None
    ) -> None:
        """Review these held people now, their holds resolved as given (see syncd.holds)."""
        keys = sorted(resolutions)
        for start in range(0, len(keys), BATCH):
            self._batch(keys[start : start + BATCH], [], summary, resolutions, seen)

    def _batch(
        self,
        keys: list[str],
        plans: list[int],
        summary: CycleSummary,
        resolutions: dict[str, str] | None = None,
        seen: Seen | None = None,
    ) -> None:
        now = self.engine.clock()
        stored = self.engine.store.history(keys)
        refs = [ProspectRef.parse(k) for k in keys]
        fresh, active, colleagues = self._lookups(refs, seen)
        revisions: list[tuple[Decision, str | None, dict[str, Any]]] = []
        owners = [plan_owner(known.plan_context) for known in stored.values()]
        load = self.engine.owner_load([o.id for o in owners if o], now.date())
        for key in keys:
            known = stored[key]
            # The plan's assignee, whose calendar its dates are in, not the record's owner now.
            person = with_plan_owner(fresh.get(key) or known.prospect, known.plan_context)
            hold = known.review
            if hold is not None and resolutions and key in resolutions:
                hold = replace(hold, resolution=resolutions[key])
            account = person.account if person else None
            history = History(
                prospect=person,
                rejections=known.rejections,
                touches=tuple(
                    TouchRecord(tc.kind, tc.channel, tc.due, key) for tc, _ in known.touches
                ),
                plan=known.plan,
                suppressed=known.suppressed,
                active=key in active,
                colleagues=tuple(c for c in colleagues.get(account.ref, []) if c.ref.key != key)
                if account
                else (),
                review=hold,
                owner_load=load,
            )
            decision = review(history, self.engine.config.core.policy, now)
            if decision is None:
                continue
            revisions.append((decision, account.ref.key if account else None, known.plan_context))
            summary.reviews[decision.outcome.value] += 1
            summary.rules.update(hit.rule_id for hit in decision.rules)
            log.info(
                "plan.revised",
                shard=self.shard,
                prospect=key,
                outcome=decision.outcome.value,
                rules=[h.rule_id for h in decision.rules],
            )
        self.engine.store.record_reviews(self.shard, self.epoch, now.date(), plans, revisions)

    def _lookups(
        self, refs: list[ProspectRef], seen: Seen | None
    ) -> tuple[dict[str, Prospect], set[str], dict[AccountRef, list[Prospect]]]:
        directory = self.engine.directory(self.shard)
        if directory is None or not refs:
            return {}, set(), {}
        if seen is None:
            fresh = {r.key: p for r, p in directory.prospects(refs).items()}
            active = {r.key for r in directory.active(refs)}
        else:
            keys = {r.key for r in refs}
            fresh = {k: p for k, p in seen[0].items() if k in keys}
            active = seen[1] & keys
        accounts = sorted({p.account.ref for p in fresh.values() if p.account}, key=lambda a: a.id)
        colleagues = directory.colleagues(accounts) if accounts else {}
        return fresh, active, colleagues
