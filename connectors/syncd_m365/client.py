"""Microsoft Graph over plain HTTP: msal for app-only tokens, requests for the calls.

Why not msgraph-sdk: it is async (the engine and every other connector are synchronous), it
pulls in the large Kiota stack, and its generated request builders hide the wire, which is
what the local fake must see to be faithful. Graph's mail API is a handful of JSON calls;
`requests` (already installed for the other connectors) with msal's token cache is the
smallest client that the tests drive unchanged against `fake.py`.

Limits honoured here, per mailbox: at most `requests_per_10_min` requests in any 10 minutes
(the documented 10,000, times `quota_share`; each request inside a `$batch` counts), at most
`concurrency` (<= 4) in flight, and 429 / 503 with Retry-After waited out. Errors come out
as the `syncd.connectors` taxonomy; a write that got no answer is flagged in doubt.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msal
import requests
import structlog

from syncd.connectors import (
    ConfigError,
    FatalSyncError,
    MalformedAnswer,
    RetriableError,
    SkippableRecordError,
    SyncError,
)
from syncd.retry import fence_call
from syncd_m365.settings import BATCH_MAX, LOGIN_ROOT, SCOPES, M365Settings

log = structlog.get_logger(__name__)

WINDOW_S = 600.0
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class NotFoundError(SkippableRecordError):
    """The message or folder is gone (404)."""


class SyncStateExpired(SyncError):
    """The delta token is no longer valid (410 syncStateNotFound): resync from scratch."""


@dataclass(frozen=True)
class BatchAnswer:
    status: int
    body: Any
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class MailboxLimiter:
    """A rolling 10-minute request budget and a concurrency cap for one mailbox."""

    def __init__(
        self,
        per_window: int,
        concurrency: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window_s: float = WINDOW_S,
    ):
        self.per_window = per_window
        self._window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self._in_flight = threading.BoundedSemaphore(concurrency)

    def _expire(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self._window_s:
            self._sent.popleft()

    def remaining(self) -> float:
        with self._lock:
            self._expire(self._clock())
            return max(0.0, 1 - len(self._sent) / self.per_window)

    @contextmanager
    def slot(self, cost: int = 1) -> Iterator[None]:
        """Wait until `cost` requests fit in the window, then hold one of the in-flight slots."""
        cost = min(cost, self.per_window)
        while True:
            with self._lock:
                now = self._clock()
                self._expire(now)
                if len(self._sent) + cost <= self.per_window:
                    self._sent.extend([now] * cost)
                    break
                wait = self._sent[len(self._sent) + cost - self.per_window - 1] + self._window_s
                wait -= now
            log.info("m365.throttle_wait", seconds=round(wait, 3))
            self._sleep(max(wait, 0.001))
        with self._in_flight:
            yield


class _LocalLogin(requests.Session):
    """Sends msal's calls for the Microsoft login host to a local fake (tests, sandbox)."""

    def __init__(self, base_url: str):
        super().__init__()
        self._base = base_url + "login/"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        target = url.decode() if isinstance(url, bytes) else url
        if target.startswith(LOGIN_ROOT):
            target = self._base + target[len(LOGIN_ROOT) :]
        return super().request(method, target, *args, **kwargs)


def _credential(settings: M365Settings) -> str | dict[str, str]:
    if settings.client_secret is not None:
        return settings.client_secret.reveal()
    assert settings.certificate_key is not None
    return {
        "private_key": settings.certificate_key.reveal(),
        "thumbprint": settings.certificate_thumbprint,
    }


def _retry_after(response: requests.Response | Mapping[str, Any]) -> float | None:
    headers = response.headers if isinstance(response, requests.Response) else response
    raw = None
    for name, value in dict(headers or {}).items():
        if str(name).lower() == "retry-after":
            raw = value
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except (TypeError, ValueError):
        return None


def quote_odata(value: str) -> str:
    """A string literal's content in an OData $filter (quotes doubled)."""
    return value.replace("'", "''")


def _error_code(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code") or "")
    return ""


class GraphClient:
    def __init__(
        self,
        settings: M365Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self._sleep = sleep
        self.limiter = MailboxLimiter(
            settings.requests_per_10_min, settings.concurrency, clock=clock, sleep=sleep
        )
        self._http = requests.Session()
        login = _LocalLogin(settings.base_url) if settings.base_url else requests.Session()
        try:
            self._app = msal.ConfidentialClientApplication(
                settings.client_id,
                client_credential=_credential(settings),
                authority=settings.authority,
                http_client=login,
                instance_discovery=False,
                timeout=settings.timeout_s,
            )
        except ValueError as exc:  # a malformed key or thumbprint
            raise ConfigError(f"client credential: {exc}") from None
        except requests.RequestException as exc:
            raise RetriableError(f"login endpoint unreachable: {type(exc).__name__}") from None

    def close(self) -> None:
        self._http.close()

    def quota_remaining(self) -> float:
        return self.limiter.remaining()

    # --- tokens ----------------------------------------------------------------------------

    def _token(self) -> str:
        try:
            answer = self._app.acquire_token_for_client(scopes=list(SCOPES))
        except requests.RequestException as exc:
            raise RetriableError(f"token endpoint unreachable: {type(exc).__name__}") from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if token:
            return str(token)
        error = str((answer or {}).get("error", "unknown"))
        if error in ("invalid_client", "unauthorized_client", "invalid_grant", "invalid_request"):
            raise FatalSyncError(
                f"the token endpoint refused the app ({error}): check tenant_id, client_id and "
                "the secret or certificate, and that admin consent was granted"
            )
        raise RetriableError(f"no token ({error})")

    def _drop_token(self) -> None:
        cache = self._app.token_cache
        for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(item)

    # --- requests --------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.settings.graph_root + path

    def request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        write: bool = False,
        cost: int = 1,
    ) -> Any:
        """One Graph call; answers the JSON body (None for 204). Retries 429 / 5xx reads."""
        url = self.url(path)
        if not url.startswith(self.settings.graph_root):
            raise SkippableRecordError(f"{what}: refusing a link outside Graph")
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            with self.limiter.slot(cost):
                sent_headers = {"Authorization": f"Bearer {self._token()}", **(headers or {})}
                if write:
                    fence_call(what)
                try:
                    response = self._http.request(
                        method,
                        url,
                        json=body,
                        params=params,
                        headers=sent_headers,
                        timeout=self.settings.timeout_s,
                    )
                except requests.RequestException as exc:
                    if write or attempt >= self.settings.retry_attempts:
                        raise RetriableError(
                            f"{what}: no answer ({type(exc).__name__})", in_doubt=write
                        ) from None
                    self._sleep(min(2.0**attempt, 30.0))
                    continue
            status = response.status_code
            if status < 300:
                return _answer(response, what, write)
            payload = _json(response)
            code = _error_code(payload)
            if status == 401 and not refreshed:
                refreshed = True
                self._drop_token()
                continue
            if status in (401, 403):
                raise FatalSyncError(
                    f"{what}: Graph refused the app ({status} {code}): check that Mail.ReadWrite "
                    "is granted and that the application access policy includes this mailbox"
                )
            if status == 404:
                raise NotFoundError(f"{what}: not found ({code})")
            if status == 410:
                raise SyncStateExpired(f"{what}: {code or 'gone'}")
            if status in _RETRY_STATUSES:
                wait = _retry_after(response)
                in_doubt = write and status != 429
                if in_doubt or attempt >= self.settings.retry_attempts:
                    raise RetriableError(
                        f"{what}: {status} {code}", retry_after_s=wait, in_doubt=in_doubt
                    )
                self._sleep(wait if wait is not None else min(2.0**attempt, 30.0))
                continue
            raise SkippableRecordError(f"{what}: refused ({status} {code})")

    def pages(
        self,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following @odata.nextLink."""
        answer = self.request("GET", path, what, params=params, headers=headers)
        while True:
            yield answer
            link = answer.get("@odata.nextLink")
            if not link:
                return
            answer = self.request("GET", str(link), what, headers=headers)

    def batch(
        self, calls: Sequence[tuple[str, dict[str, Any]]], what: str, *, write: bool = False
    ) -> dict[str, BatchAnswer]:
        """Run (id, request) pairs in `$batch` requests of up to 20; throttled ones are sent
        again after their Retry-After (reads only, and writes answered 429, never applied)."""
        answers: dict[str, BatchAnswer] = {}
        pending = list(calls)
        size = min(self.settings.batch_size, BATCH_MAX)
        refreshed = False
        for attempt in range(1, self.settings.retry_attempts + 1):
            again: list[tuple[str, dict[str, Any]]] = []
            waits: list[float] = []
            expired = False
            for start in range(0, len(pending), size):
                chunk = pending[start : start + size]
                by_id = dict(chunk)
                requests_ = [{"id": cid, **req} for cid, req in chunk]
                answer = self.request(
                    "POST",
                    "v1.0/$batch",
                    what,
                    body={"requests": requests_},
                    write=write,
                    cost=len(chunk),
                )
                for item in _batch_responses(answer, what, write):
                    cid = str(item.get("id"))
                    status = int(item.get("status") or 0)
                    wait = _retry_after(item.get("headers") or {})
                    last = attempt >= self.settings.retry_attempts
                    if status == 401 and not refreshed and not last and cid in by_id:
                        # The token expired while the batch ran (each request in it is
                        # authorised on its own): refused, so not applied; sent again once
                        # with a new token, as a refused call is.
                        expired = True
                        again.append((cid, by_id[cid]))
                        continue
                    if status == 401:
                        raise FatalSyncError(f"{what}: Graph refused the app inside a batch")
                    retry = status == 429 or (status >= 500 and not write)
                    if retry and attempt < self.settings.retry_attempts and cid in by_id:
                        again.append((cid, by_id[cid]))
                        waits.append(wait if wait is not None else 1.0)
                        continue
                    answers[cid] = BatchAnswer(status, item.get("body"), wait)
            if not again:
                break
            if expired:
                refreshed = True
                self._drop_token()
            if waits:
                self._sleep(max(waits))
            pending = again
        return answers


def _answer(response: requests.Response, what: str, write: bool) -> Any:
    """A 2xx answer's JSON object (None for an empty body). Anything else (cut off, a proxy's
    HTML page, not an object) is malformed: retried, and in doubt for a write."""
    if not response.content:
        return None
    answer = _json(response)
    if not isinstance(answer, dict):
        raise MalformedAnswer(f"{what}: Graph's answer is not a JSON object", in_doubt=write)
    return answer


def _batch_responses(answer: Any, what: str, write: bool) -> list[dict[str, Any]]:
    """The `responses` of a `$batch` answer, each an object with its request's id."""
    items = answer.get("responses") if isinstance(answer, dict) else None
    if not isinstance(items, list) or not all(
        isinstance(i, dict)
        and isinstance(i.get("id"), str | int)
        and isinstance(i.get("status"), int)
        for i in items
    ):
        raise MalformedAnswer(
            f"{what}: Graph's $batch answer has no readable responses", in_doubt=write
        )
    return items


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
