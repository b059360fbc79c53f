"""The one place where Google and transport exceptions become syncd's error taxonomy.

- Auth refused for good (refresh grant revoked, delegation withdrawn, 401 after a refresh,
  403 domainPolicy / insufficient scopes) → FatalSyncError: the shard stops, an admin acts.
- Quotas (429, 403 user/rate limits, daily limit), 5xx, timeouts, dropped connections
  → RetriableError, with the wait Gmail asked for; in doubt when a write may have landed.
- 404 → NotFoundError (a message deleted meanwhile, a stale history id): the caller decides.
- Other 4xx → SkippableRecordError: this record is refused, the rest goes on.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

import httplib2
import structlog
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from googleapiclient.errors import BatchError, HttpError

from syncd.connectors import FatalSyncError, RetriableError, SkippableRecordError, SyncError
from syncd.model import WriteStatus

log = structlog.get_logger(__name__)

RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
DEFAULT_RATE_WAIT_S = 5.0
DAILY_WAIT_S = 3600.0


# Everything a Gmail call can raise that is not a bug: catch these, then `translate`.
VENDOR_ERRORS: tuple[type[BaseException], ...] = (
    HttpError,
    BatchError,
    GoogleAuthError,
    httplib2.HttpLib2Error,
    OSError,  # socket timeouts, resets, ResponseLost
)


class NotFoundError(SkippableRecordError):
    """Gmail answered 404: the entity (message, draft, history position) does not exist."""


def reasons(exc: HttpError) -> set[str]:
    found = getattr(exc, "error_details", None)  # a BatchError never sets it
    details = found if isinstance(found, list) else []
    return {str(d.get("reason")) for d in details if isinstance(d, dict) and d.get("reason")}


def _retry_after(exc: HttpError) -> float | None:
    header = exc.resp.get("retry-after") if exc.resp is not None else None
    if header:
        try:
            return max(float(header), 0.0)
        except ValueError:
            pass
    message = str(exc.reason or "")
    marker = "Retry after "
    if marker in message:
        stamp = message.split(marker, 1)[1].strip().rstrip(".")
        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return None
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)
    return None


def _from_http_error(exc: HttpError, what: str, write: bool) -> SyncError:
    status = exc.status_code
    why = reasons(exc)
    if status == 401:
        log.error("gmail.auth_refused", what=what, status=status)
        return FatalSyncError(
            "Gmail refused the credentials even after a token refresh; re-authorise the "
            "mailbox (syncd auth <shard>) or check the service account's delegation"
        )
    if status == 429 or (status == 403 and why & RATE_REASONS):
        wait = _retry_after(exc) or DEFAULT_RATE_WAIT_S
        return RetriableError(f"Gmail rate limit on {what} ({status})", retry_after_s=wait)
    if status == 403 and "dailyLimitExceeded" in why:
        return RetriableError(f"Gmail daily limit reached on {what}", retry_after_s=DAILY_WAIT_S)
    if status == 403:
        log.error("gmail.forbidden", what=what, reasons=sorted(why))
        return FatalSyncError(
            f"Gmail forbids {what} ({', '.join(sorted(why)) or 'forbidden'}): check that the "
            "Gmail API is enabled for the mailbox and the grant includes the gmail.modify scope"
        )
    if status == 404:
        return NotFoundError(f"Gmail has no such entity for {what}")
    if status >= 500 or status == 408:
        return RetriableError(
            f"Gmail server error {status} on {what}",
            in_doubt=write,
            retry_after_s=_retry_after(exc),
        )
    return SkippableRecordError(f"Gmail refused {what} ({status}: {', '.join(sorted(why))})")


def translate(exc: BaseException, what: str, *, write: bool = False) -> SyncError:
    """Map one of VENDOR_ERRORS raised by a Gmail call to the taxonomy.

    Callers raise the result `from exc`, so the vendor exception stays the __cause__.
    """
    if isinstance(exc, BatchError):
        # The batch's answer could not be parsed (garbled by a proxy, cut off): the calls
        # inside it may all have been applied, none of their own answers is known.
        # (A batch refused as a whole arrives as an HttpError, handled below.)
        return RetriableError(f"Gmail's answer to {what} could not be read", in_doubt=write)
    if isinstance(exc, HttpError):
        return _from_http_error(exc, what, write)
    if isinstance(exc, RefreshError):
        if getattr(exc, "retryable", False):
            return RetriableError(f"Google token endpoint unavailable during {what}")
        log.error("gmail.auth_revoked", what=what)
        return FatalSyncError(
            "Google refused to refresh the mailbox's access (token expired or revoked, or the "
            "domain-wide delegation was withdrawn); run: syncd auth <shard>, or ask the Workspace "
            "admin to restore the delegation for the gmail.modify scope"
        )
    if isinstance(exc, TransportError):
        return RetriableError(f"cannot reach Google's token endpoint during {what}")
    if isinstance(exc, socket.timeout | TimeoutError):
        return RetriableError(f"Gmail timed out on {what}", in_doubt=write)
    if isinstance(exc, httplib2.ServerNotFoundError):
        return RetriableError(f"cannot resolve the Gmail host for {what}")
    return RetriableError(f"connection to Gmail failed during {what}", in_doubt=write)


def write_status(exc: HttpError) -> tuple[WriteStatus, float | None]:
    """The outcome of one write inside a batch answered with this error."""
    status = exc.status_code
    why = reasons(exc)
    if status == 429 or (status == 403 and why & (RATE_REASONS | {"dailyLimitExceeded"})):
        return WriteStatus.RETRY, _retry_after(exc) or DEFAULT_RATE_WAIT_S
    if status >= 500 or status == 408:
        return WriteStatus.IN_DOUBT, None
    return WriteStatus.FAILED, None


def error_code(exc: Any) -> str:
    """A short vendor error code for a write result (never a message text)."""
    if isinstance(exc, HttpError):
        why = sorted(reasons(exc))
        return f"http_{exc.status_code}" + (f":{why[0]}" if why else "")
    return type(exc).__name__
