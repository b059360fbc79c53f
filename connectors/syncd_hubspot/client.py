"""Every HubSpot call goes through `HubSpotApi`: token, budgets, timeout, translation.

hubspot-api-client builds a new ApiClient and connection pool each time an API attribute is
read, so the API objects are built once and kept. Each call:

1. takes a token valid for the call (OAuth tokens are renewed ahead of expiry);
2. waits for the pacer and the rate governor (the configured share of the 10-second and
   daily budgets) or, for search, for the client-side search limiter (5 requests/s, no
   usage headers);
3. passes `_request_timeout` (the client has no default timeout and would hang for ever);
4. feeds the governor from the `X-HubSpot-RateLimit-*` headers of the answer, and
5. translates failures through `errors.translate`, keeping the vendor exception as cause.

urllib3 retries only connection set-up (nothing was sent); everything else is decided here:
reads and searches are retried by `syncd.retry.call_with_retry`, writes never are in-call.

Answers are taken as JSON (`_preload_content=False`) rather than the client's models: its
deserializer parses every timestamp with dateutil and costs about a millisecond a record,
more than the API itself at syncd's volumes, and the connector reads a few fields anyway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from hubspot import HubSpot
from urllib3.util.retry import Retry

from syncd import httpstats
from syncd.connectors import MalformedAnswer, RetriableError
from syncd.retry import RateGovernor, call_with_retry, fence_call
from syncd.secrets import register
from syncd_hubspot.auth import Credentials, Grant, OAuthSession, PrivateAppToken
from syncd_hubspot.errors import TEN_SECONDLY, api_failure, rate_limit_wait_s, translate
from syncd_hubspot.limits import SearchLimiter, WindowPacer, observe_usage, spent
from syncd_hubspot.settings import HubSpotSettings

log = structlog.get_logger(__name__)

# Connection set-up failures only: a request that never left is safe to repeat, any other
# failure is classified by `translate` (a POST may have been applied). urllib3 would also
# "retry" a 429 or 503 carrying Retry-After on its own (and, with no status retries allowed,
# turn it into MaxRetryError, losing the header): the answer must reach `translate` instead.
_CONNECT_ONLY = Retry(
    total=2,
    connect=2,
    read=False,
    redirect=False,
    status=False,
    other=0,
    status_forcelist=(),
    respect_retry_after_header=False,
)
_GOVERNOR_MAX_WAIT_S = 15.0
_MAX_IN_CALL_WAIT_S = 60.0
T = TypeVar("T")


class _WaitTooLong(Exception):
    """Carries a RetriableError past call_with_retry, which would otherwise sleep it out."""

    def __init__(self, error: RetriableError):
        super().__init__(str(error))
        self.error = error


Invoke = Callable[[Any, tuple[float, float]], Any]


def _decoded(response: Any, what: str, write: bool) -> tuple[Any, int, dict[str, str]]:
    """(JSON body, status, lower-cased headers) of a raw urllib3 response, released to the pool.

    A body that is not JSON (truncated, a proxy's HTML page) is a MalformedAnswer: retried,
    and in doubt for a write, which HubSpot may have applied before the answer was garbled."""
    try:
        payload = response.data
    finally:
        response.release_conn()
    headers = {str(k).lower(): str(v) for k, v in response.headers.items()}
    try:
        body = json.loads(payload) if payload else None
    except (ValueError, RecursionError):
        kind = headers.get("content-type", "?").split(";")[0]
        raise MalformedAnswer(
            f"{what}: HubSpot answered {response.status} with a body that is not JSON ({kind})",
            in_doubt=write,
        ) from None
    return body, int(response.status), headers


class HubSpotApi:
    """One portal connection: API objects, credentials, governor and search limiter."""

    def __init__(
        self,
        settings: HubSpotSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self._sleep = sleep
        options: dict[str, Any] = {"host": settings.base_url.rstrip("/"), "retry": _CONNECT_ONLY}
        if settings.ca_bundle:
            options["ssl_ca_cert"] = settings.ca_bundle
        self._client = HubSpot(access_token=None, **options)
        self._timeout = (min(10.0, settings.timeout_s), settings.timeout_s)
        self._apis: dict[str, Any] = {}
        self.governor = RateGovernor(settings.rate_share, sleep=sleep, clock=clock)
        self.search_limiter = SearchLimiter(settings.search_rate_per_s, sleep=sleep, clock=clock)
        self.pacer = WindowPacer(settings.rate_share, sleep=sleep, clock=clock)
        self.credentials = self._credentials(settings, clock)

    def _credentials(self, settings: HubSpotSettings, clock: Callable[[], float]) -> Credentials:
        if not settings.uses_oauth:
            assert settings.access_token is not None
            return PrivateAppToken(settings.access_token)
        assert settings.client_secret is not None and settings.refresh_token is not None
        return OAuthSession(
            settings.client_id,
            settings.client_secret,
            settings.refresh_token,
            self._exchange,
            clock=clock,
        )

    def api(self, path: str) -> Any:
        """The API object at a dotted path of the client, e.g. `crm.deals.search_api`."""
        found = self._apis.get(path)
        if found is None:
            found = self._client
            for part in path.split("."):
                found = getattr(found, part)
            self._apis[path] = found
        return found

    def remaining_ratio(self) -> float | None:
        return self.governor.remaining_ratio()

    def close(self) -> None:
        """Drop the kept connections (idempotent)."""
        for target in self._apis.values():
            target.api_client.rest_client.pool_manager.clear()
            target.api_client.close()
        self._apis.clear()

    # --- calls ---------------------------------------------------------------------------

    def read(
        self,
        what: str,
        api: str,
        method: str,
        *args: Any,
        validate: Callable[[Any], object] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A read (GET or a read-only POST such as batch read), retried on transient errors;
        `validate` raises MalformedAnswer on an answer of the wrong shape, retried too."""

        def attempt() -> Any:
            data = self.call(what, api, method, *args, **kwargs)[0]
            if validate is not None:
                validate(data)
            return data

        return self._retried(what, attempt)

    def search(
        self,
        what: str,
        api: str,
        body: dict[str, Any],
        validate: Callable[[Any], object] | None = None,
    ) -> Any:
        """A CRM search: spaced by the search limiter, retried on transient errors."""

        def attempt() -> Any:
            data = self.call(what, api, "do_search", body, search=True)[0]
            if validate is not None:
                validate(data)
            return data

        return self._retried(what, attempt)

    def _retried(self, what: str, attempt: Callable[[], T]) -> T:
        """Retry short waits in-call; a longer one (the daily budget) goes to the engine, so
        the shard pauses instead of a thread sleeping for hours."""

        def once() -> T:
            try:
                return attempt()
            except RetriableError as exc:
                if (exc.retry_after_s or 0.0) >= _MAX_IN_CALL_WAIT_S:
                    raise _WaitTooLong(exc) from exc
                raise

        try:
            return call_with_retry(once, sleep=self._sleep, what=what)
        except _WaitTooLong as long_wait:
            raise long_wait.error from long_wait.error.__cause__

    def call(
        self,
        what: str,
        api: str,
        method: str,
        *args: Any,
        write: bool = False,
        search: bool = False,
        **kwargs: Any,
    ) -> tuple[Any, int]:
        """One typed-client call, once; returns (data, HTTP status)."""

        def invoke(target: Any, timeout: tuple[float, float]) -> Any:
            bound = getattr(target, f"{method}_with_http_info")
            return bound(*args, _request_timeout=timeout, _preload_content=False, **kwargs)

        return self._perform(what, self.api(api), invoke, write=write, search=search)

    def raw(
        self,
        what: str,
        api: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        path_params: dict[str, str] | None = None,
        write: bool = False,
    ) -> tuple[Any, int]:
        """An endpoint the typed layer lacks, sent through that package's own ApiClient (same
        transport, timeout and exceptions); the JSON answer comes back as plain data. Reads
        are retried like `read`; writes are sent once."""
        request = (method, path, path_params or {}, query or [], body)
        if write:
            return self._raw_once(what, api, request, write=True)
        return self._retried(what, lambda: self._raw_once(what, api, request, write=False))

    def _raw_once(
        self,
        what: str,
        api: str,
        request: tuple[str, str, dict[str, str], Any, Any],
        *,
        write: bool,
    ) -> tuple[Any, int]:
        method, path, path_params, query, body = request

        def invoke(target: Any, timeout: tuple[float, float]) -> Any:
            return target.api_client.call_api(
                path,
                method,
                path_params,
                query,
                {"Accept": "application/json", "Content-Type": "application/json"},
                body=body,
                response_types_map={200: "object", 201: "object", 207: "object"},
                auth_settings=["oauth2"],
                _preload_content=False,
                _request_timeout=timeout,
            )

        return self._perform(what, self.api(api), invoke, write=write, search=False)

    def _perform(
        self, what: str, target: Any, invoke: Invoke, *, write: bool, search: bool
    ) -> tuple[Any, int]:
        for attempt in (1, 2):
            target.api_client.configuration.access_token = self.credentials.token()
            if search:
                self.search_limiter.wait()
            else:
                self.pacer.wait()
                self.governor.acquire(max_wait_s=_GOVERNOR_MAX_WAIT_S)
            if write:
                fence_call(what)
            try:
                data, status, headers = _decoded(invoke(target, self._timeout), what, write)
            except Exception as exc:
                failure = api_failure(exc)
                httpstats.response("hubspot", failure.status or None if failure else None)
                if failure is not None:
                    observe_usage(self.governor, failure.headers, pacer=self.pacer)
                    if failure.status == 429:
                        wait = rate_limit_wait_s(failure)
                        log.warning(
                            "ratelimit.hit", what=what, policy=failure.policy or "?", wait_s=wait
                        )
                        if failure.policy in ("", TEN_SECONDLY):
                            spent(self.governor, wait)
                    if failure.status == 401 and attempt == 1 and self.credentials.oauth:
                        log.warning("hubspot.token_refused", what=what)
                        self.credentials.refresh()
                        continue
                err = translate(exc, what=what, write=write)
                if err is None:
                    raise
                raise err from exc
            httpstats.response("hubspot", status)
            observe_usage(self.governor, headers, pacer=self.pacer)
            return data, status
        raise AssertionError("unreachable")  # pragma: no cover

    # --- OAuth ---------------------------------------------------------------------------

    def _exchange(self, client_id: str, client_secret: str, refresh_token: str) -> Grant:
        """Trade the refresh token for an access token; a refusal is fatal."""
        tokens = self.api("oauth.tokens_api")
        try:
            answer, status, _ = _decoded(
                tokens.create(
                    grant_type="refresh_token",
                    client_id=client_id,
                    client_secret=client_secret,
                    refresh_token=refresh_token,
                    _request_timeout=self._timeout,
                    _preload_content=False,
                ),
                "oauth.refresh",
                False,
            )
        except Exception as exc:
            failure = api_failure(exc)
            httpstats.response("hubspot", failure.status or None if failure else None)
            err = translate(exc, what="oauth.refresh", write=False, refresh=True)
            if err is None:
                raise
            raise err from exc
        httpstats.response("hubspot", status)
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            raise RetriableError("oauth.refresh: HubSpot's token answer has no access_token")
        refresh = answer.get("refresh_token")
        expires = answer.get("expires_in")
        lifetime = float(expires) if isinstance(expires, int | float) and expires > 0 else 1800.0
        register(answer["access_token"], refresh if isinstance(refresh, str) else None)
        return Grant(
            access_token=answer["access_token"],
            expires_in_s=lifetime,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        )
