"""The write protocol for one sink shard: reconcile in-doubt writes, then send batches.

Each batch is claimed (marked inflight and committed) before the call; the answer decides
each row's next state. A write that may have been applied (5xx, timeout, reset) is *in
doubt*: re-sent at once to an idempotent sink (upsert by key), otherwise looked up with
`Sink.find` after the vendor's index lag and only re-sent when it is not there.

Fencing guards the vendor call itself, not only the commits around it: right before each
call the shard's lease is read again, and the call is started only when the lease has at
least the call's bound (the connector's timeout) left. So a process that was paused and lost
its shard sends nothing, and a call that is started ends before another instance can take
the shard over.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog

from syncd.config import EngineConfig
from syncd.connectors import FatalSyncError, RetriableError, Sink
from syncd.model import Channel, TouchSpec, WriteResult, WriteStatus
from syncd.retry import attempts_until
from syncd.store import LeaseLost, OutboxItem, Outcome, Store
from syncd.store.codec import decode

log = structlog.get_logger(__name__)
# The bound of one write call when the sink does not say (`call_timeout_s`): the connectors'
# own default timeout.
DEFAULT_CALL_BOUND_S = 30.0


def call_bound_s(sink: Sink) -> float:
    """How long one vendor call may take: the connector's timeout, when it declares one."""
    bound = getattr(sink, "call_timeout_s", None)
    return float(bound) if isinstance(bound, int | float) else DEFAULT_CALL_BOUND_S


class Dispatcher:
    def __init__(
        self,
        store: Store,
        shard: str,
        epoch: int,
        sink: Sink,
        cfg: EngineConfig,
        clock: Callable[[], datetime],
        stop_requested: Callable[[], bool] = lambda: False,
        heartbeat: Callable[[], None] = lambda: None,
    ):
        self.store = store
        self.shard = shard
        self.epoch = epoch
        self.sink = sink
        self.cfg = cfg
        self.clock = clock
        self.stop_requested = stop_requested
        self.heartbeat = heartbeat

    def _now(self) -> float:
        return self.clock().timestamp()

    def _backoff(self, attempts: int, hint: float | None) -> float:
        delay = min(self.cfg.retry_max_s, self.cfg.retry_base_s * 2.0 ** max(0, attempts - 1))
        return self._now() + max(delay, hint or 0.0)

    def run(self, tally: Counter[str]) -> None:
        self.reconcile(tally)
        for _ in range(self.cfg.dispatch_batches_per_cycle):
            if self.stop_requested():
                return
            items = self.store.claim(self.shard, self.epoch, self.sink.batch_size)
            if not items:
                return
            if not self.send(items, tally):
                return
            self.heartbeat()

    def reconcile(self, tally: Counter[str]) -> None:
        """Settle in-doubt writes whose grace period has passed."""
        while True:
            items = self.store.due_in_doubt(self.shard, self.sink.batch_size)
            if not items:
                return
            found: dict[str, str] = {}
            if not self.sink.idempotent:
                try:
                    found = self.sink.find([i.key for i in items])
                except RetriableError as exc:
                    # the connector already retried: leave them in doubt for the next cycle
                    log.warning(
                        "write.reconcile_deferred",
                        shard=self.shard,
                        count=len(items),
                        error=str(exc),
                    )
                    return
            outcomes = []
            for item in items:
                if item.key in found:
                    outcomes.append(Outcome(item.key, "done", remote_id=found[item.key]))
                    tally["ok"] += 1
                    log.info("write.reconciled", shard=self.shard, key=item.key, found=True)
                else:
                    outcomes.append(Outcome(item.key, "pending", next_attempt_at=self._now()))
                    log.info("write.reconciled", shard=self.shard, key=item.key, found=False)
            self.store.finish(self.shard, self.epoch, outcomes)

    def lease_allows_call(self) -> float | None:
        """The seconds left for starting calls when the lease has time for one whole call,
        else None; raises LeaseLost when another instance holds the shard now (the claimed
        rows stay inflight: its new owner treats them as in doubt)."""
        left = self.store.lease_left(self.shard, self.epoch)
        if left is None:
            log.warning("write.fenced", shard=self.shard, epoch=self.epoch, reason="lease lost")
            raise LeaseLost(f"shard {self.shard} lease lost before a write (epoch {self.epoch})")
        bound = call_bound_s(self.sink)
        if left < bound:
            log.warning(
                "write.fenced",
                shard=self.shard,
                epoch=self.epoch,
                reason="lease too short for the call",
                left_s=round(left, 2),
                bound_s=bound,
            )
            return None
        return left - bound

    def _still_owner(self) -> bool:
        """Whether this process's epoch still holds the shard: asked by the connector right
        before each write request leaves (a takeover may happen during look-ups or waits)."""
        return self.store.lease_left(self.shard, self.epoch) is not None

    def send(self, items: Sequence[OutboxItem], tally: Counter[str]) -> bool:
        """Write one claimed batch; False when the lease was too short to start the call
        (the rows go back to pending, untouched remotely)."""
        blocked = self.store.suppressed(i.prospect_key for i in items)
        live: list[OutboxItem] = []
        outcomes: list[Outcome] = []
        for item in items:  # the last re-check: never write to a channel that opted out
            if item.channel and Channel(item.channel) in blocked.get(item.prospect_key, ()):
                outcomes.append(Outcome(item.key, "cancelled", error="opted out"))
                tally["cancelled"] += 1
            else:
                live.append(item)
        specs = [decode(TouchSpec, i.spec) for i in live]
        spare = self.lease_allows_call() if specs else 0.0
        if spare is None:
            outcomes += [Outcome(i.key, "pending", next_attempt_at=self._now()) for i in live]
            self.store.finish(self.shard, self.epoch, outcomes)
            return False
        try:
            with attempts_until(time.monotonic() + spare, self._still_owner):
                results = self.sink.write(specs) if specs else []
        except FatalSyncError:
            # refused before anything was applied: leave the rows for after re-authorisation
            outcomes += [Outcome(i.key, "pending", next_attempt_at=self._now()) for i in live]
            self.store.finish(self.shard, self.epoch, outcomes)
            raise
        except RetriableError as exc:
            results = [
                WriteResult(
                    s.key,
                    WriteStatus.IN_DOUBT if exc.in_doubt else WriteStatus.RETRY,
                    error=type(exc).__name__,
                    retry_after_s=exc.retry_after_s,
                )
                for s in specs
            ]
        except Exception:
            # an unknown failure mid-call: the write may have happened
            outcomes += [Outcome(i.key, "in_doubt", next_attempt_at=self._now()) for i in live]
            self.store.finish(self.shard, self.epoch, outcomes)
            raise
        by_key = {r.key: r for r in results}
        for item in live:
            result = by_key.get(item.key) or WriteResult(
                item.key, WriteStatus.IN_DOUBT, error="no result"
            )
            outcomes.append(self._outcome(item, result, tally))
        self.store.finish(self.shard, self.epoch, outcomes)
        return True

    def _outcome(self, item: OutboxItem, result: WriteResult, tally: Counter[str]) -> Outcome:
        fields = {
            "shard": self.shard,
            "key": item.key,
            "prospect": item.prospect_key,
            "attempt": item.attempts,
            "error": result.error,
        }
        if result.status is WriteStatus.OK:
            tally["ok"] += 1
            log.info("write.ok", remote_id=result.remote_id, **fields)
            return Outcome(item.key, "done", remote_id=result.remote_id)
        exhausted = item.attempts >= self.cfg.max_attempts
        if result.status is WriteStatus.FAILED or (
            exhausted and result.status is WriteStatus.RETRY
        ):
            tally["dead"] += 1
            log.warning("write.dead", **fields)
            return Outcome(item.key, "dead", error=result.error or "failed")
        if result.status is WriteStatus.IN_DOUBT:
            tally["in_doubt"] += 1
            log.warning("write.in_doubt", **fields)
            if self.sink.idempotent:
                return Outcome(item.key, "pending", error=result.error, next_attempt_at=self._now())
            return Outcome(
                item.key,
                "in_doubt",
                error=result.error,
                next_attempt_at=self._now() + self.sink.find_grace_s,
            )
        tally["retry"] += 1
        log.info("write.retry", **fields)
        return Outcome(
            item.key,
            "pending",
            error=result.error,
            next_attempt_at=self._backoff(item.attempts, result.retry_after_s),
        )
