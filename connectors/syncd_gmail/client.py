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
from collections.abc import Callable, Sequence
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
    """Units spent in the last minute, reported to the governor before each call."""

    def __init__(self, governor: RateGovernor, limit: int, clock: Callable[[], float]):
        self._governor = governor
        self._limit = limit
        self._clock = clock
        self._spent: deque[tuple[float, int]] = deque()
        self._used = 0

    def spend(self, units: int) -> None:
        self._governor.acquire()
        now = self._clock()
        while self._spent and now - self._spent[0][0] >= WINDOW_S:
            self._used -= self._spent.popleft()[1]
        self._spent.append((now, units))
        self._used += units
        # The budget frees up when the oldest units leave the rolling minute.
        window = max(self._spent[0][0] + WINDOW_S - now, 0.0)
        self._governor.observe(BUDGET, self._used, self._limit, window)


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
        self._meter = QuotaMeter(self.governor, settings.user_units_per_minute, clock)
        self._sleep = sleep

    def quota_remaining(self) -> float | None:
        return self.governor.remaining_ratio()

    def close(self) -> None:
        self.http.close_idle()

    # --- single calls --------------------------------------------------------------------------

    def read(self, request: Any, what: str, validate: Callable[[Any], object] | None = None) -> Any:
        """A read, retried in the call on quota errors, 5xx, timeouts and answers of the
        wrong shape (`validate` raises MalformedAnswer)."""

        def attempt() -> Any:
            self._meter.spend(UNITS.get(what, 5))
            try:
                answer = request.execute(num_retries=0)
            except VENDOR_ERRORS as exc:
                raise _in_call(translate(exc, what)) from exc
            except ValueError as exc:  # a 2xx body that is not JSON: truncated, an HTML page
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
            self._meter.spend(UNITS.get(what, 5))
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
        self._meter.spend(UNITS.get(what, 5) * len(calls))
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
        size = self.settings.batch_size
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
