"""Checking open review holds against the CRM, each cycle, in batches.

A hold ends when a rep has acted on it in the CRM: the review task completed, an opt-out flag
set on the person since the hold opened, or an open opportunity or rep task of their own. A
new lead status or closed deal read from the CRM resolves a hold through the policy's
`decide` instead. Per batch of open holds this costs one task-state lookup per sink and one
people and one open-work lookup in the directory, whatever the number of holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

from syncd.connectors import RetriableError, TaskTracker
from syncd.model import ProspectRef, TaskStatus
from syncd.review import Reviewer, Seen
from syncd.store import OpenReview

if TYPE_CHECKING:
    from syncd.engine import CycleSummary, Engine

log = structlog.get_logger(__name__)
BATCH = 200


class HoldCheck:
    def __init__(self, engine: Engine, shard: str, epoch: int, max_batches: int = 5):
        self.engine = engine
        self.shard = shard
        self.epoch = epoch
        self.max_batches = max_batches

    def run(self, summary: CycleSummary) -> None:
        holds = self.engine.store.reviews_to_check(self.shard, BATCH * self.max_batches)
        for start in range(0, len(holds), BATCH):
            if self.engine.stop_requested():
                return
            self._batch(holds[start : start + BATCH], summary)
            self.engine.heartbeat()

    def _batch(self, holds: Sequence[OpenReview], summary: CycleSummary) -> None:
        try:
            completed = self._completed(holds)
            resolutions, seen = self._resolutions(holds, completed)
        except RetriableError as exc:
            log.warning("review.check_deferred", shard=self.shard, error=str(exc))
            return
        self.engine.store.mark_reviews_checked([h.id for h in holds])
        if not resolutions:
            return
        for key, by in sorted(resolutions.items()):
            log.info("review.resolved", shard=self.shard, prospect=key, by=by)
        Reviewer(self.engine, self.shard, self.epoch).resolve(resolutions, summary, seen)
        summary.holds_resolved += len(resolutions)

    def _completed(self, holds: Sequence[OpenReview]) -> set[str]:
        """Task keys the CRM reports completed, one lookup per sink."""
        by_sink: dict[str, list[str]] = defaultdict(list)
        for hold in holds:
            if hold.task_written and hold.sink_shard is not None:
                by_sink[hold.sink_shard].append(hold.task_key)
        done: set[str] = set()
        for sink_shard, keys in sorted(by_sink.items()):
            conn = self.engine.connectors.get(sink_shard)
            sink = conn.sink if conn is not None else None
            if not isinstance(sink, TaskTracker):
                continue  # this CRM cannot report tasks: the other signals still resolve
            states = sink.task_status(keys)
            done |= {k for k, state in states.items() if state is TaskStatus.COMPLETED}
        return done

    def _resolutions(
        self, holds: Sequence[OpenReview], completed: set[str]
    ) -> tuple[dict[str, str], Seen]:
        """How each hold the CRM shows resolved was resolved, and what was read to tell."""
        directory = self.engine.directory(self.shard)
        refs = sorted({ProspectRef.parse(h.prospect_key) for h in holds}, key=lambda r: r.key)
        people = directory.prospects(refs) if directory is not None and refs else {}
        active = directory.active(refs) if directory is not None and refs else set()
        fresh = {r.key: p for r, p in people.items()}
        working = {r.key for r in active}
        out: dict[str, str] = {}
        for hold in holds:
            key = hold.prospect_key
            person = fresh.get(key)
            if person is not None and person.opted_out - hold.hold.opted_out:
                out[key] = "opt_out_flag"
            elif key in working:
                out[key] = "active"
            elif hold.task_key in completed:
                out[key] = "task_completed"
        return out, (fresh, working)
