"""Retry policy and the rate governor shared by every connector.

Retries happen on `RetriableError` only (tenacity), waiting at least what the vendor asked
for (`Retry-After`, a rate-limit window) and otherwise backing off exponentially with jitter.
The governor is fed by the usage headers a vendor returns and slows the caller down *before*
the configured share of a budget is spent, so syncd never starves the org's other integrations.

A write runs under `attempts_until(deadline)`: the dispatcher sets the last moment at which a
vendor call may still start (the shard's lease minus one call's bound), and no retry inside
the connector starts after it, so a retried call cannot outlive the lease either. Every write
attempt, the first too, passes `fence_call` right before its request leaves: past the deadline,
or once the lease (read again) has another owner, it is not sent. A process paused or kept
waiting (rate governor, token refresh, look-ups) between the dispatcher's lease check and the
call would otherwise send a write its shard's new owner is already taking care of.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential_jitter

from syncd.connectors import RetriableError

T = TypeVar("T")
log = structlog.get_logger(__name__)
# time.monotonic() after which no new attempt may start (set around a fenced write)
_attempt_deadline: ContextVar[float | None] = ContextVar("syncd_attempt_deadline", default=None)
# re-reads the shard's lease right before a fenced write leaves (set around a fenced write)
_still_owner: ContextVar[Callable[[], bool] | None] = ContextVar("syncd_still_owner", default=None)


@contextmanager
def attempts_until(
    deadline: float, still_owner: Callable[[], bool] | None = None
) -> Iterator[None]:
    """No retry inside this block starts after `deadline` (a time.monotonic() value), and
    no write starts once `still_owner` says the shard has another owner."""
    token = _attempt_deadline.set(deadline)
    owner_token = _still_owner.set(still_owner)
    try:
        yield
    finally:
        _still_owner.reset(owner_token)
        _attempt_deadline.reset(token)


def attempt_deadline() -> float | None:
    return _attempt_deadline.get()


def fence_call(what: str) -> None:
    """Refuse to start a write past the fenced deadline: raises a RetriableError that is not
    in doubt (nothing was sent), so the row goes back to the outbox, or to the shard's new
    owner when the lease was lost meanwhile. Call it last before the request is sent."""
    deadline = _attempt_deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        log.warning("write.fenced", what=what, reason="deadline passed before the call")
        raise RetriableError(f"{what}: not sent, the shard's lease has no time left for it")
    still_owner = _still_owner.get()
    if still_owner is not None and not still_owner():
        log.warning("write.fenced", what=what, reason="lease lost before the call")
        raise RetriableError(f"{what}: not sent, another instance holds the shard now")


class _StopPastDeadline(stop_base):
    """Stop when the next attempt would start after the fenced write's deadline."""

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock

    def __call__(self, state: RetryCallState) -> bool:
        deadline = _attempt_deadline.get()
        if deadline is None:
            return False
        late = self._clock() + state.upcoming_sleep > deadline
        if late:
            log.info("retry.fenced", attempt=state.attempt_number)
        return late


def _retriable(allow_in_doubt: bool) -> Callable[[BaseException], bool]:
    def check(exc: BaseException) -> bool:
        return isinstance(exc, RetriableError) and (allow_in_doubt or not exc.in_doubt)

    return check


class _WaitRetryAfter:
    """Exponential jitter, but never shorter than the error's retry_after_s."""

    def __init__(self, base_s: float, max_s: float):
        self._backoff = wait_exponential_jitter(multiplier=base_s, max=max_s, jitter=base_s)

    def __call__(self, state: RetryCallState) -> float:
        backoff = float(self._backoff(state))
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after_s", None) or 0.0
        return max(backoff, float(hint))


def call_with_retry(
    fn: Callable[[], T],
    *,
    attempts: int = 4,
    base_s: float = 0.5,
    max_s: float = 30.0,
    allow_in_doubt: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "call",
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run `fn`, retrying RetriableError up to `attempts` times in all.

    In-doubt errors (a write that may have been applied) are re-raised at once unless
    `allow_in_doubt`: re-sending a non-idempotent write is the engine's decision, not ours.
    """

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info(
            "retry.backoff",
            what=what,
            attempt=state.attempt_number,
            wait_s=round(wait, 2),
            error=type(exc).__name__,
        )

    retrying = Retrying(
        retry=retry_if_exception(_retriable(allow_in_doubt)),
        stop=stop_after_attempt(attempts) | _StopPastDeadline(clock),
        wait=_WaitRetryAfter(base_s, max_s),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)


class RateGovernor:
    """Keeps a caller within `share` of a budget it learns from response headers.

    `observe(used, limit, window_s)` records the vendor's latest figures for one budget
    (e.g. Salesforce's daily `api-usage=25/5000`, HubSpot's 10-second window). `acquire()`
    blocks while syncd's share of any budget is spent, until that window may have rolled.
    """

    def __init__(
        self,
        share: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.share = share
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        # budget name -> (used, limit, window_s, observed_at)
        self._budgets: dict[str, tuple[int, int, float, float]] = {}

    def observe(self, name: str, used: int, limit: int, window_s: float) -> None:
        with self._lock:
            self._budgets[name] = (used, limit, window_s, self._clock())

    def remaining_ratio(self) -> float | None:
        """The smallest remaining share of any known budget (1.0 = untouched)."""
        with self._lock:
            ratios = [1 - used / limit for used, limit, _, _ in self._budgets.values() if limit]
        return min(ratios) if ratios else None

    def _wait_needed(self) -> tuple[str, float] | None:
        now = self._clock()
        with self._lock:
            for name, (used, limit, window_s, seen) in self._budgets.items():
                if limit and used >= limit * self.share:
                    left = window_s - (now - seen)
                    if left > 0:
                        return name, left
        return None

    def acquire(self, max_wait_s: float = 60.0) -> None:
        """Wait (in steps of at most `max_wait_s`) while a budget's share is spent.

        Raises RetriableError when the wait would be longer than `max_wait_s`, so a daily
        budget makes the shard pause until its next cycle instead of blocking the daemon.
        """
        needed = self._wait_needed()
        if needed is None:
            return
        name, left = needed
        if left > max_wait_s:
            log.warning(
                "ratelimit.budget_reserved", budget=name, share=self.share, wait_s=round(left, 1)
            )
            raise RetriableError(f"{name} budget share {self.share:.0%} used", retry_after_s=left)
        log.info("ratelimit.throttled", budget=name, wait_s=round(left, 2))
        self._sleep(left)
