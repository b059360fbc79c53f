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
from syncd.retry import RateGovernor, call_with_retry
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


class QuotaMeter:
    """Spends Gmail's per-user quota units within syncd's share, as Gmail meters them.

    Gmail enforces 250 units per user per second (a moving average) besides 15,000 a minute:
    a minute's share spent in a few seconds is refused with `userRateLimitExceeded`. So each
    call waits, before it is made, until its units fit under the share in the last second
    and in the last minute (sliding windows of what this mailbox spent); a call bigger than a
    second's share (a batch) goes out once nothing else is in the window, and callers size
    batches to fit (`per_call_limit`). The governor hears the minute's use for /metrics.
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
        self._caps = ((1.0, per_second * governor.share), (WINDOW_S, per_minute * governor.share))
        self._per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._spent: deque[list[float]] = deque()  # [moment counted, units], oldest first

    def per_call_limit(self) -> int:
        """The most units one call may carry and still fit a second's share."""
        return max(1, int(self._caps[0][1]))

    def _wait(self, units: int, now: float) -> float:
        wait = 0.0
        for window, cap in self._caps:
            inside = sorted((at, u) for at, u in self._spent if now - at < window)
            used = sum(u for _, u in inside)
            for at, u in inside:  # oldest first: wait until enough has left the window
                if used + units <= cap or used == 0:
                    break
                used -= u
                wait = max(wait, at + window - now)
        return wait

    @contextmanager
    def spend(self, units: int) -> Iterator[None]:
        """Wait until `units` fit, then make the call inside the block. The units count from
        when the call has ended: Gmail counts each call (each part of a batch) as it reaches
        it, never later, so no window of Gmail's holds more than the same window here."""
        self._governor.acquire()
        now = self._clock()
        while self._spent and now - self._spent[0][0] >= WINDOW_S:
            self._spent.popleft()
        wait = self._wait(units, now)
        if wait > 0:
            log.info("ratelimit.throttled", budget=BUDGET, wait_s=round(wait, 3))
            self._sleep(wait)
            now += wait  # the moment the units fit (one client spends from one thread)
        entry = [now, float(units)]
        self._spent.append(entry)
        try:
            yield
        finally:
            entry[0] = max(entry[0], self._clock())
            used = int(sum(u for _, u in self._spent))
            self._governor.observe(BUDGET, used, self._per_minute, WINDOW_S)


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
        # a batch's units all count at once: no bigger than a second's share of the quota
        size = min(self.settings.batch_size, self.batch_limit(what))
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
