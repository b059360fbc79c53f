"""Reading replies from files: JSON lines, a single .eml, or an mbox.

The format is told by the file name when it has a telling extension, else by the content:
`{` starts JSON lines, `From ` starts an mbox, a header line starts an .eml. The mbox is split
here rather than with `mailbox.mbox`, which only reads named files and `syncd classify` also
reads standard input; the split is the mboxrd rule (a `From ` line after a blank line starts a
message, `>From ` lines are unescaped).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

from syncd.replies.message import ReplyMessage

_MBOX_SEPARATOR = re.compile(rb"(?:\A|\n\n)From [^\n]*\n")
_MBOXRD_ESCAPE = re.compile(rb"^>(>*From )", re.MULTILINE)
_HEADER_LINE = re.compile(rb"\A[\x21-\x39\x3b-\x7e]+:[ \t]")


@dataclass(frozen=True, slots=True)
class BadRecord:
    """An input record that could not be read, and where it was."""

    where: str  # "line 3", "message 2"
    reason: str


def read_messages(data: bytes, name: str | None = None) -> Iterator[ReplyMessage | BadRecord]:
    """The messages in `data`, in order; unreadable records come out as `BadRecord`."""
    kind = _kind(data, name)
    if kind == "eml":
        yield _from_mime(data, fallback_id=name or "1", where="message 1")
    elif kind == "mbox":
        yield from _mbox(data)
    else:
        yield from _json_lines(data)


def _kind(data: bytes, name: str | None) -> str:
    lowered = (name or "").lower()
    if lowered.endswith(".eml"):
        return "eml"
    if lowered.endswith((".mbox", ".mbx")):
        return "mbox"
    head = data.lstrip()
    if head.startswith(b"{"):
        return "json"
    if data.startswith(b"From "):
        return "mbox"
    if _HEADER_LINE.match(data):
        return "eml"
    return "json"


def _json_lines(data: bytes) -> Iterator[ReplyMessage | BadRecord]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield BadRecord(where, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except UnicodeDecodeError:
            yield BadRecord(where, "not UTF-8 text")
            continue
        try:
            yield message_from_record(record)
        except ValueError as exc:
            yield BadRecord(where, str(exc))


def message_from_record(record: Any) -> ReplyMessage:
    """A message from a JSON object `{id, date, from, subject, headers, body[, html]}`."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    ident = record.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
        raise ValueError("'id' is missing or not a string")
    body = _text(record, "body")
    html = record.get("html")
    if html is not None and not isinstance(html, str):
        raise ValueError("'html' is not a string")
    headers = record.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ValueError("'headers' is not an object of strings")
    return ReplyMessage(
        id=str(ident),
        date=parse_date(record.get("date")),
        sender=_text(record, "from"),
        subject=_text(record, "subject"),
        headers=headers,
        body=body,
        html=html,
    )


def _text(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"'{key}' is not a string")
    return value


def parse_date(value: Any) -> datetime | None:
    """An RFC 2822 or ISO 8601 date as an aware datetime (UTC when no zone is given)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("'date' is not a string")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"'date' is neither RFC 2822 nor ISO 8601: {value[:40]!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _mbox(data: bytes) -> Iterator[ReplyMessage | BadRecord]:
    starts = list(_MBOX_SEPARATOR.finditer(data))
    for number, (match, following) in enumerate(
        zip(starts, [*starts[1:], None], strict=True), start=1
    ):
        end = following.start() if following is not None else len(data)
        raw = _MBOXRD_ESCAPE.sub(rb"\1", data[match.end() : end])
        yield _from_mime(raw, fallback_id=str(number), where=f"message {number}")


def _from_mime(raw: bytes, *, fallback_id: str, where: str) -> ReplyMessage | BadRecord:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not message.keys():
        return BadRecord(where, "no mail headers found")
    headers: dict[str, str] = {}
    for key, value in message.items():
        headers.setdefault(key, str(value))
    try:
        date = parse_date(headers.get("Date"))
    except ValueError:
        date = None
    ident = headers.get("Message-ID", "").strip().strip("<>") or fallback_id
    return ReplyMessage(
        id=ident,
        date=date,
        sender=headers.get("From", ""),
        subject=headers.get("Subject", ""),
        headers=headers,
        body=_part(message, "plain"),
        html=_part(message, "html") or None,
    )


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):  # unknown or lying charset
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""
