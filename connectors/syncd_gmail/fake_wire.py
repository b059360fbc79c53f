"""Gmail's wire format, as the local Gmail writes and reads it.

Google's error envelope (what google-api-python-client parses into HttpError and its
`error_details`), the quota answers, page tokens, the short message and history resources,
multipart/related uploads, and building RFC 822 messages for seeding.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from syncd.testing.httpfake import Request, Response
from syncd_gmail.fake_store import HistoryRecord, MailboxError, StoredMessage

JSON = "application/json; charset=UTF-8"
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def google_error(
    status: int, message: str, reason: str, domain: str = "global", **extra: str
) -> Response:
    """Google's JSON error envelope, as the client library parses it into HttpError."""
    detail: dict[str, str] = {"message": message, "domain": domain, "reason": reason, **extra}
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [detail],
            "status": _STATUS.get(status, "UNKNOWN"),
        }
    }
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = (
            'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        )
    return Response(status, body, headers, content_type=JSON)


def quota_error(kind: str, retry_at: datetime | None = None) -> Response:
    """The answers Gmail gives when a quota is spent (`kind` names which)."""
    when = (retry_at or datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if kind == "user_rate":
        message = f"User-rate limit exceeded.  Retry after {when}"
        return google_error(429, message, "rateLimitExceeded", "usageLimits")
    if kind == "user_rate_403":
        return google_error(403, "User Rate Limit Exceeded", "userRateLimitExceeded", "usageLimits")
    if kind == "concurrent":
        message = "Too many concurrent requests for user"
        return google_error(429, message, "rateLimitExceeded", "usageLimits")
    if kind == "daily":
        return google_error(403, "Daily Limit Exceeded", "dailyLimitExceeded", "usageLimits")
    raise ValueError(f"unknown quota error kind {kind!r}")


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def page(items: list[Any], req: Request, default: int = 100) -> tuple[list[Any], str | None]:
    size = min(max(int(req.arg("maxResults") or default), 1), 500)
    token = req.arg("pageToken")
    try:
        start = int(b64decode(token).decode()) if token else 0
    except ValueError:
        raise MailboxError(400, "Invalid pageToken", "invalidArgument") from None
    end = start + size
    more = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], more


def short(message: StoredMessage) -> dict[str, Any]:
    return {"id": message.id, "threadId": message.thread_id, "labelIds": sorted(message.label_ids)}


def history_record(record: HistoryRecord) -> dict[str, Any]:
    message = {
        "id": record.message_id,
        "threadId": record.thread_id,
        "labelIds": sorted(record.labels_at),
    }
    body: dict[str, Any] = {
        "id": str(record.id),
        "messages": [{"id": record.message_id, "threadId": record.thread_id}],
    }
    if record.kind == "messageAdded":
        body["messagesAdded"] = [{"message": message}]
    elif record.kind == "messageDeleted":
        body["messagesDeleted"] = [{"message": message}]
    elif record.kind == "labelAdded":
        body["labelsAdded"] = [{"message": message, "labelIds": list(record.changed)}]
    else:
        body["labelsRemoved"] = [{"message": message, "labelIds": list(record.changed)}]
    return body


def parse_related(content_type: str, body: bytes) -> list[tuple[str, Any]]:
    """The parts of a multipart/related upload: ("json", metadata) and ("raw", message bytes).

    Split by hand rather than with the email parser, which would parse (and re-serialise) the
    message/rfc822 part instead of keeping its bytes.
    """
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise MailboxError(400, "Invalid multipart request", "invalidArgument")
    parts: list[tuple[str, Any]] = []
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removeprefix(b"\n")
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, _, data = chunk.partition(b"\n\n")
        data = data.removesuffix(b"\n").removesuffix(b"\r")
        if b"application/json" in head.lower():
            parts.append(("json", json.loads(data or b"{}")))
        else:
            parts.append(("raw", data))
    return parts


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str | None,
    date: datetime | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    html: str | None = None,
) -> EmailMessage:
    """An RFC 822 message as a mail client would send it (for seeding)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    domain = sender.rsplit("@", 1)[-1].strip(">") or "example.com"
    msg["Message-ID"] = make_msgid(domain=domain)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in headers:
        if name.lower() == "message-id":  # the same message delivered to another mailbox
            msg.replace_header("Message-ID", value)
        else:
            msg[name] = value
    if body is None:  # HTML only, as Outlook often sends
        msg.set_content(html or "", subtype="html")
        return msg
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg
