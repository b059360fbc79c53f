"""The one place Salesforce and transport exceptions become syncd's error taxonomy.

Messages carry error codes and HTTP statuses only: Salesforce error messages can echo field
values (a subject, an address), which must not reach the logs.
"""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceOperationError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from syncd.connectors import (
    ConfigError,
    FatalSyncError,
    RetriableError,
    SkippableRecordError,
    SyncError,
)

# REQUEST_LIMIT_EXCEEDED covers the rolling 24-hour allocations (TotalRequests,
# DailyBulkV2QueryJobs: wait a while) and concurrency limits such as ConcurrentPerOrgLongTxn
# (seconds).
DAILY_LIMIT_RETRY_S = 900.0
CONCURRENCY_RETRY_S = 5.0
# Per-record codes that succeed when sent again later.
RETRY_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "ALL_OR_NONE_OPERATION_ROLLED_BACK"}
)
# A query the org refuses because a configured field or object does not exist there.
QUERY_CONFIG_CODES = frozenset({"INVALID_FIELD", "INVALID_TYPE", "MALFORMED_QUERY", "NOT_FOUND"})
# OAuth errors that no retry fixes: the app, the user or the key is not accepted.
FATAL_LOGIN_CODES = frozenset(
    {
        "invalid_grant",
        "invalid_client",
        "invalid_client_id",
        "unsupported_grant_type",
        "inactive_user",
        "inactive_org",
        "invalid_app_access",
        "unauthorized_client",
    }
)


class QueryLocatorExpired(RetriableError):
    """A half-read query's locator died (re-login, idle): restart it from the last position."""


class RequestRefused(SkippableRecordError):
    """A write call refused as a whole (HTTP 400): its records go to the dead letters."""

    def __init__(self, code: str):
        super().__init__(f"salesforce: request refused ({code})")
        self.code = code


def error_code(content: Any) -> str | None:
    """The errorCode of a REST error body (a list of {message, errorCode})."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        code = content[0].get("errorCode")
        return str(code) if code else None
    if isinstance(content, dict):
        code = content.get("errorCode") or content.get("error")
        return str(code) if code else None
    return None


def _message(content: Any) -> str:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("message", ""))
    return ""


def translate(exc: BaseException, *, write: bool = False) -> SyncError:
    """Map a vendor or transport exception; raise the result `from exc`.

    `write` marks a call that may change data: a timeout or 5xx is then in doubt.
    """
    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, SalesforceAuthenticationFailed):
        return _login(exc)
    if isinstance(exc, requests.Timeout):
        return RetriableError("salesforce: call timed out", in_doubt=write)
    if isinstance(exc, requests.RequestException):
        return RetriableError(
            f"salesforce: connection failed ({type(exc).__name__})", in_doubt=write
        )
    if isinstance(exc, SalesforceError):
        return _rest(exc, write)
    if isinstance(exc, SalesforceOperationError):
        return RetriableError("salesforce: bulk query job did not complete")
    if isinstance(exc, ValueError):  # a non-JSON body where JSON was expected (proxy pages)
        return RetriableError("salesforce: unreadable response", in_doubt=write)
    return RetriableError(f"salesforce: unexpected {type(exc).__name__}", in_doubt=write)


def _login(exc: SalesforceAuthenticationFailed) -> SyncError:
    code = exc.code
    if isinstance(code, int) and (code >= 500 or code == 429):
        return RetriableError(f"salesforce: login endpoint answered HTTP {code}")
    if isinstance(code, str) and code in FATAL_LOGIN_CODES:
        return FatalSyncError(
            f"salesforce: login refused ({code}); check the connected app, its pre-authorised "
            "users, the username and the key or secret"
        )
    return FatalSyncError(f"salesforce: login failed ({code})")


def _rest(exc: SalesforceError, write: bool) -> SyncError:
    code = error_code(exc.content)
    status = exc.status
    if isinstance(exc, SalesforceExpiredSession):
        return FatalSyncError("salesforce: session refused even after a fresh login")
    if isinstance(exc, SalesforceRefusedRequest):
        if code == "REQUEST_LIMIT_EXCEEDED":
            daily = any(name in _message(exc.content) for name in ("TotalRequests", "Daily"))
            return RetriableError(
                f"salesforce: {code}" + (" (daily API requests)" if daily else ""),
                retry_after_s=DAILY_LIMIT_RETRY_S if daily else CONCURRENCY_RETRY_S,
            )
        return FatalSyncError(
            f"salesforce: request refused ({code or status}); the integration user lacks a "
            "permission or API access"
        )
    if isinstance(exc, SalesforceMalformedRequest):
        if code == "INVALID_QUERY_LOCATOR":
            return QueryLocatorExpired("salesforce: query locator expired")
        if code in RETRY_CODES:
            return RetriableError(f"salesforce: {code}", retry_after_s=1.0)
        if write:
            return RequestRefused(code or "MALFORMED_REQUEST")
        return ConfigError(f"salesforce: query refused ({code}); check the configured fields")
    if isinstance(exc, SalesforceResourceNotFound):
        return ConfigError(f"salesforce: resource not found ({code or status})")
    if isinstance(exc, SalesforceMoreThanOneRecord):
        return SkippableRecordError("salesforce: external id matches several records")
    if isinstance(exc, SalesforceGeneralError):
        if status == 429:
            return RetriableError("salesforce: HTTP 429", retry_after_s=CONCURRENCY_RETRY_S)
        if status >= 500:
            return RetriableError(f"salesforce: HTTP {status} ({code})", in_doubt=write)
    return RetriableError(f"salesforce: HTTP {status} ({code})", in_doubt=write)
