"""The one place where HubSpot failures become syncd's error taxonomy.

hubspot-api-client raises a different exception class per API package (the deals package's
ApiException is not the tasks package's), and transport failures come through as raw urllib3
exceptions, so everything here is duck-typed on `.status` / `.body` / `.headers`. Messages
carry the status, HubSpot's error category and correlation id only: bodies can echo property
values (names, e-mail addresses) and never reach a log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from urllib3 import exceptions as urllib3_errors

from syncd.connectors import (
    ConfigError,
    FatalSyncError,
    RetriableError,
    SkippableRecordError,
    SyncError,
)

TEN_SECONDLY = "TEN_SECONDLY_ROLLING"
SECONDLY = "SECONDLY"
DAILY = "DAILY"

# Transport failures raised before the request reached HubSpot: never applied.
_NOT_SENT = (
    urllib3_errors.NewConnectionError,
    urllib3_errors.ConnectTimeoutError,
    urllib3_errors.NameResolutionError,
)


@dataclass(frozen=True)
class ApiFailure:
    """What a failed call said, parsed once."""

    status: int
    category: str  # HubSpot's error category (VALIDATION_ERROR, RATE_LIMIT...) or ""
    policy: str  # 429 policyName, or ""
    correlation_id: str
    headers: dict[str, str]
    body: dict[str, Any]  # parsed JSON body: inspect, never log


def api_failure(exc: BaseException) -> ApiFailure | None:
    """The parsed failure when `exc` is a hubspot-api-client ApiException (any package)."""
    if not type(exc).__module__.startswith("hubspot.") or not hasattr(exc, "status"):
        return None
    raw = getattr(exc, "body", None) or ""
    try:
        body = json.loads(raw) if isinstance(raw, str | bytes) and raw else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    headers = {str(k).lower(): str(v) for k, v in dict(getattr(exc, "headers", None) or {}).items()}
    return ApiFailure(
        status=int(getattr(exc, "status", 0) or 0),
        category=str(body.get("category") or body.get("errorType") or body.get("status") or ""),
        policy=str(body.get("policyName") or ""),
        correlation_id=str(body.get("correlationId") or ""),
        headers=headers,
        body=body,
    )


def rate_limit_wait_s(failure: ApiFailure, now: datetime | None = None) -> float:
    """How long a 429 asks us to stay away, by policy (Retry-After is not guaranteed)."""
    retry_after = failure.headers.get("retry-after", "")
    if retry_after.replace(".", "", 1).isdigit():
        return float(retry_after)
    if failure.policy == SECONDLY:
        return 1.0
    if failure.policy == DAILY:
        moment = now or datetime.now(UTC)
        midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(60.0, (midnight - moment).total_seconds())
    interval = failure.headers.get("x-hubspot-ratelimit-interval-milliseconds", "")
    return int(interval) / 1000 if interval.isdigit() else 10.0


def translate(
    exc: BaseException, *, what: str, write: bool, refresh: bool = False
) -> SyncError | None:
    """Map one failed call to the taxonomy (the caller raises it `from exc`); None when
    `exc` is neither an API error nor a transport failure, i.e. a bug to let through.

    `write` says whether the call could have changed the portal: a timeout, a dropped
    connection or a 5xx on a write is then in doubt, since HubSpot may have applied it.
    `refresh` marks the OAuth token exchange, where any 4xx means the grant is gone.
    """
    if isinstance(exc, SyncError):
        return exc
    failure = api_failure(exc)
    if failure is None:
        return _transport(exc, what=what, write=write)
    label = f"{what}: HubSpot answered {failure.status}"
    if failure.category:
        label += f" {failure.category}"
    if failure.correlation_id:
        label += f" (correlation id {failure.correlation_id})"
    status = failure.status
    if status == 0:
        return ConfigError(f"{what}: TLS or transport set-up failed; check ca_bundle and base_url")
    if refresh and 400 <= status < 500 and status != 429:
        return FatalSyncError(
            f"{label}; HubSpot refused the OAuth refresh: re-authorise the app and update "
            "refresh_token"
        )
    if status == 401:
        return FatalSyncError(f"{label}; the token was refused: re-authorise the HubSpot app")
    if status == 403:
        return FatalSyncError(f"{label}; the app lacks a scope this call needs")
    if status == 429:
        return RetriableError(label, retry_after_s=rate_limit_wait_s(failure))
    if status >= 500:
        return RetriableError(label, in_doubt=write)
    if write:
        return SkippableRecordError(label)
    return ConfigError(f"{label}; the portal refuses what this shard asks for (check settings)")


def _transport(exc: BaseException, *, what: str, write: bool) -> SyncError | None:
    reason: BaseException = exc
    if isinstance(exc, urllib3_errors.MaxRetryError) and exc.reason is not None:
        reason = exc.reason
    name = type(reason).__name__
    if isinstance(reason, _NOT_SENT):
        return RetriableError(f"{what}: cannot reach HubSpot ({name})")
    if isinstance(reason, urllib3_errors.HTTPError | OSError):
        return RetriableError(f"{what}: no answer from HubSpot ({name})", in_doubt=write)
    return None


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind a translated error (its vendor cause), if there was one."""
    failure = api_failure(exc.__cause__) if exc.__cause__ is not None else None
    return failure.status if failure is not None else None


def code_of(exc: BaseException) -> str:
    """A short vendor error code for a WriteResult: HubSpot's category, else the status."""
    failure = api_failure(exc.__cause__) if exc.__cause__ is not None else None
    if failure is None:
        return type(exc).__name__
    return failure.category or f"HTTP_{failure.status}"
