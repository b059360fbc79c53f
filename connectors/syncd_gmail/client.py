"""google-api-python-client for one mailbox: governed, retried, batched, errors translated.

Every call spends Gmail's per-user quota units through a meter that feeds the shared
RateGovernor, so syncd keeps to its configured share of the mailbox's 15,000 units a minute
and leaves the rest to the rep's other tools. Reads are retried in the call (syncd.retry);
a non-idempotent write is sent once, without httplib2's silent replay, and reported in doubt
when its answer is lost.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import structlog
from google.auth.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from syncd.connectors import MalformedAnswer, RetriableError, SyncError
from syncd.retry import RateGovernor, call_with_retry, fence_call
from syncd.secrets import register
from syncd_gmail import shapes
from syncd_gmail.errors import VENDOR_ERRORS, NotFoundError, translate
from syncd_gmail.settings import GmailSettings
from syncd_gmail.transport import build_http, no_replay

log = structlog.get_logger(__name__)

# Quota units per method (Gmail's usage-limits table).
UNITS = {
    "users.getProfile": 1,
    "messages.list": 5,
    "messages.get": 5,
    "messages.batchModify": 50,
    "labels.list": 1,
    "labels.create": 5,
    "history.list": 2,
    "threads.get": 10,
    "drafts.create": 10,
    "drafts.list": 5,
}
WINDOW_S = 60.0
BUDGET = "gmail_user_units"
# Reads go in batches of at most this fraction of a second's share (QuotaMeter.read_limit).
READ_BATCHES_PER_SECOND = 5
# Longer waits (a daily limit) are not slept through in the call: the shard's cycle ends and
# the engine comes back later.
MAX_IN_CALL_WAIT_S = 60.0


class _LongWait(Exception):
    """Carries a RetriableError past call_with_retry when its wait is too long to sleep."""

    def __init__(self, error: RetriableError):
        super().__init__(str(error))
        self.error = error


def _in_call(error: SyncError) -> Exception:
    if isinstance(error, RetriableError) and (error.retry_after_s or 0) > MAX_IN_CALL_WAIT_S:
        return _LongWait(error)
    return error


class _RegisteringHttp(AuthorizedHttp):  # type: ignore[misc]
    """Registers each access token google-auth obtains for redaction, as soon as it is used."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().request(*args, **kwargs)
        finally:
            register(getattr(self.credentials, "token", None))


class _Window:
    """The units counted in one sliding window (oldest first) and their running total."""

    def __init__(self, span_s: float, cap: float):
        self.span_s = span_s
        self.cap = cap
        self.total = 0
        self._spent: deque[tuple[float, int]] = deque()  # (moment counted, units)

    def evict(self, now: float) -> None:
        while self._spent and now - self._spent[0][0] >= self.span_s:
            self.total -= self._spent.popleft()[1]

    def add(self, at: float, units: int) -> None:
        self._spent.append((at, units))
        self.total += units

    def wait(self, units: int, now: float) -> float:
        """Seconds until `units` more fit: the oldest leave first, so walk them only as far as
        needed. A call bigger than the cap waits for an empty window."""
        excess = self.total + units - self.cap
        if excess <= 0 or not self._spent:
            return 0.0
        if units > self.cap:
            excess = self.total
        freed = 0
        for at, spent in self._spent:
            freed += spent
            if freed >= excess:
                return at + self.span_s - now
        return 0.0  # not reached: everything leaves eventually


class QuotaMeter:
    """Spends Gmail's per-user quota units within syncd's share, never a second over.

    Gmail enforces 250 units per user per second (a moving average) besides 15,000 a minute:
    a minute's share spent in a few seconds is refused with `userRateLimitExceeded`. So each
    call waits, before it is sent, until its units fit under the share in the last second and
    in the last minute (sliding windows, each with a running total).

    Gmail counts a call when it arrives, some time between our send and its answer, and how
    long that takes varies from call to call (network, a batch's parts). So units count from
    the send and leave a window only once the window has passed the *answer*: the earliest
    moment the call's arrival has surely left Gmail's window too. Counting from the send
    alone would not be safe: a call sent at 0.0 that arrives at 0.5 and one sent at 1.0 that
    arrives at 1.01 sit in one Gmail second. The price is each call's duration per window, so
    reads go in small batches (`read_limit`) that hold the window briefly and fill its gaps.
    One client spends from one thread: a call is checked when no other one is in flight.
    """

    def __init__(
        self,
        governor: RateGovernor,
        per_second: int,
        per_minute: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ):
        self._governor = governor
        share = governor.share
        self._second = _Window(1.0, per_second * share)
        self._minute = _Window(WINDOW_S, per_minute * share)
        self._per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._last = float("-inf")  # the latest moment counted (windows stay in time order)

    def per_call_limit(self) -> int:
        """The most units one call may carry and still fit a second's share."""
        return max(1, int(self._second.cap))

    def read_limit(self) -> int:
        """The units of one batch of reads: a fifth of a second's share, so a batch's units
        hold the window only for its own short duration and small batches fill the gaps
        other calls leave (measured: benchmarks/gmail.py)."""
        return max(1, int(self._second.cap) // READ_BATCHES_PER_SECOND)

    def _wait(self, units: int, now: float) -> float:
        for window in (self._second, self._minute):
            window.evict(now)
        return max(self._second.wait(units, now), self._minute.wait(units, now))

    @contextmanager
    def spend(self, units: int) -> Iterator[None]:
        """Wait until `units` fit, then make the call inside the block; its units are
        counted when its answer is in (or it failed), whatever the outcome."""
        now = self._clock()
        wait = self._wait(units, now)
        if wait > 0:
            log.info("ratelimit.throttled", budget=BUDGET, wait_s=round(wait, 3))
            self._sleep(wait)
            now += wait
        try:
            yield
        finally:
            ended = max(self._clock(), now, self._last)
            self._last = ended
            self._second.add(ended, units)
            self._minute.add(ended, units)
            self._minute.evict(ended)
            self._governor.observe(BUDGET, self._minute.total, self._per_minute, WINDOW_S)


class GmailClient:
    """The Gmail API for one mailbox, as syncd uses it."""

    def __init__(
        self,
        settings: GmailSettings,
        credentials: Credentials,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        ca_bundle = str(settings.ca_bundle) if settings.ca_bundle else None
        self.http = build_http(settings.timeout_s, ca_bundle)
        authed = _RegisteringHttp(credentials, http=self.http)
        options = {"api_endpoint": settings.base_url} if settings.base_url else None
        service = build(
            "gmail",
            "v1",
            http=authed,
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
        )
        # Resource objects are built from the discovery document on every call of
        # users().messages() etc. (milliseconds each): build them once.
        self.users: Any = service.users()
        self.messages: Any = self.users.messages()
        self.threads: Any = self.users.threads()
        self.history: Any = self.users.history()
        self.labels: Any = self.users.labels()
        self.drafts: Any = self.users.drafts()
        self.governor = RateGovernor(share=settings.quota_share, sleep=sleep, clock=clock)
        self._meter = QuotaMeter(
            self.governor,
            settings.user_units_per_second,
            settings.user_units_per_minute,
            clock,
            sleep,
        )
        self._sleep = sleep

    def batch_limit(self, what: str) -> int:
        """The most calls of this method one batch may carry within a second's share."""
        return max(1, self._meter.per_call_limit() // UNITS.get(what, 5))

    def read_batch_limit(self, what: str) -> int:
        """The calls of this method one batch of reads carries (`QuotaMeter.read_limit`)."""
        return max(1, self._meter.read_limit() // UNITS.get(what, 5))

    def quota_remaining(self) -> float | None:
        return self.governor.remaining_ratio()

    def close(self) -> None:
        self.http.close_idle()

    # --- single calls --------------------------------------------------------------------------

    def read(self, request: Any, what: str, validate: Callable[[Any], object] | None = None) -> Any:
        """A read, retried in the call on quota errors, 5xx, timeouts and answers of the
        wrong shape (`validate` raises MalformedAnswer)."""

        def attempt() -> Any:
            with self._meter.spend(UNITS.get(what, 5)):
                try:
                    answer = request.execute(num_retries=0)
                except VENDOR_ERRORS as exc:
                    raise _in_call(translate(exc, what)) from exc
                except ValueError as exc:  # a 2xx body that is not JSON: truncated, HTML
                    raise MalformedAnswer(
                        f"Gmail answered {what} with a body that is not JSON"
                    ) from exc
            if validate is not None:
                validate(answer)
            return answer

        return self._retrying(attempt, what)

    def _retrying(self, attempt: Callable[[], Any], what: str, in_doubt: bool = False) -> Any:
        try:
            return call_with_retry(
                attempt,
                attempts=self.settings.retry_attempts,
                sleep=self._sleep,
                what=what,
                allow_in_doubt=in_doubt,
            )
        except _LongWait as wait:
            raise wait.error from wait.__cause__

    def write(self, request: Any, what: str, *, idempotent: bool) -> Any:
        """A write. Idempotent ones (labels) are retried even in doubt; others are sent once."""

        def attempt() -> Any:
            with self._meter.spend(UNITS.get(what, 5)):
                fence_call(what)
                try:
                    if idempotent:
                        return request.execute(num_retries=0)
                    with no_replay(self.http):
                        return request.execute(num_retries=0)
                except VENDOR_ERRORS as exc:
                    raise _in_call(translate(exc, what, write=True)) from exc
                except ValueError as exc:  # applied, perhaps, but the answer is unreadable
                    raise MalformedAnswer(
                        f"Gmail answered {what} with a body that is not JSON", in_doubt=True
                    ) from exc

        if not idempotent:
            return attempt()
        return self._retrying(attempt, what, in_doubt=True)

    def profile(self) -> dict[str, Any]:
        result: dict[str, Any] = self.read(
            self.users.getProfile(userId="me"), "users.getProfile", shapes.profile
        )
        return result

    # --- batches -------------------------------------------------------------------------------

    def batch(
        self, calls: Sequence[tuple[str, Any]], what: str, *, write: bool = False
    ) -> dict[str, Any]:
        """Send these calls in one batch request; each key maps to its answer or HttpError.

        The batch URI is built from the configured endpoint: the client's own default
        ignores the endpoint override and would post to Google even in tests.
        """
        if len(calls) > self.settings.batch_size:
            raise ValueError(f"{len(calls)} calls exceed batch_size {self.settings.batch_size}")
        results: dict[str, Any] = {}

        def collect(request_id: str, response: Any, exception: HttpError | None) -> None:
            results[request_id] = exception if exception is not None else response

        request = BatchHttpRequest(callback=collect, batch_uri=self.settings.batch_uri)
        for key, call in calls:
            request.add(call, request_id=key)
        with self._meter.spend(UNITS.get(what, 5) * len(calls)):
            if write:
                fence_call(f"batch {what}")
            try:
                if write:
                    with no_replay(self.http):
                        request.execute()
                else:
                    request.execute()
            except VENDOR_ERRORS as exc:
                raise translate(exc, f"batch {what}", write=write) from exc
            except ValueError as exc:  # a part (or the whole answer) that is not JSON
                raise MalformedAnswer(
                    f"Gmail answered batch {what} with a body that is not JSON", in_doubt=write
                ) from exc
        return results

    def fetch(self, calls: Sequence[tuple[str, Any]], what: str) -> dict[str, Any]:
        """Batched reads: parts that hit a quota or 5xx are re-sent after a back-off;
        a part answered 404 maps to None (deleted meanwhile); other errors raise."""
        pending = list(calls)
        answers: dict[str, Any] = {}
        # a batch's units all count at once and stay counted until its answer: small batches
        size = min(self.settings.batch_size, self.read_batch_limit(what))
        for attempt in range(1, self.settings.retry_attempts + 1):
            again: list[tuple[str, Any]] = []
            wait = 0.0
            for start in range(0, len(pending), size):
                chunk = pending[start : start + size]
                results = self._retrying(partial(self._batch_in_call, chunk, what), f"batch {what}")
                by_key = dict(chunk)
                for key, result in results.items():
                    if not isinstance(result, HttpError):
                        answers[key] = result
                        continue
                    error = translate(result, what)
                    if isinstance(error, NotFoundError):
                        answers[key] = None
                    elif isinstance(error, RetriableError):
                        again.append((key, by_key[key]))
                        wait = max(wait, error.retry_after_s or 0.0)
                    else:
                        raise error from result
            if not again:
                return answers
            if attempt == self.settings.retry_attempts or wait > MAX_IN_CALL_WAIT_S:
                break
            log.info("gmail.batch_retry", what=what, parts=len(again), attempt=attempt)
            self._sleep(max(wait, 0.5 * 2 ** (attempt - 1)))
            pending = again
        raise RetriableError(
            f"Gmail kept refusing {len(again)} {what} calls in a batch", retry_after_s=wait or None
        )

    def _batch_in_call(self, calls: Sequence[tuple[str, Any]], what: str) -> dict[str, Any]:
        try:
            return self.batch(calls, what)
        except RetriableError as exc:
            raise _in_call(exc) from exc.__cause__
