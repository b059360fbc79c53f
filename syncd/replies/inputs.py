"""Reading replies from files: JSON lines, a single .eml, or an mbox.

The format is told by the file name when it has a telling extension, else by the content:
`{` starts JSON lines, `From ` starts an mbox, a header line starts an .eml. The mbox is split
here rather than with `mailbox.mbox`, which only reads named files and `syncd classify` also
reads standard input; the split is the mboxrd rule (a `From ` line after a blank line starts a
message, `>From ` lines are unescaped).

Nothing in a file can stop the run: a record that cannot be read (not JSON, nested too deep,
not UTF-8, no mail headers, a MIME tree too deep) comes out as a `BadRecord` naming where it
is and why. Mail headers are kept as sent and decoded one by one, so a malformed address or
encoded word costs that header's decoding, not the message.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
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
        except RecursionError:
            yield BadRecord(where, "JSON nested too deeply (a reply is one flat object)")
            continue
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            yield BadRecord(where, f"not valid JSON ({exc})")
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
        id=_clean(str(ident)),
        date=parse_date(record.get("date")),
        sender=_clean(_text(record, "from")),
        subject=_clean(_text(record, "subject")),
        headers={_clean(k): _clean(v) for k, v in headers.items()},
        body=_clean(body),
        html=_clean(html) if html is not None else None,
    )


def _clean(text: str) -> str:
    """`text` without lone surrogates (JSON allows "\\ud800"; no output could carry it)."""
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


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
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except (ValueError, OverflowError):
            raise ValueError(f"'date' is neither RFC 2822 nor ISO 8601: {value[:40]!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _mbox(data: bytes) -> Iterator[ReplyMessage | BadRecord]:
    starts = list(_MBOX_SEPARATOR.finditer(data))
    if not data.strip():
        yield BadRecord("message 1", "the mbox is empty")
        return
    if not starts:
        yield BadRecord("message 1", "no 'From ' separator line: not an mbox (an .eml?)")
        return
    ends = [match.start() for match in starts[1:]] + [len(data)]
    for number, (match, end) in enumerate(zip(starts, ends, strict=True), start=1):
        raw = _MBOXRD_ESCAPE.sub(rb"\1", data[match.end() : end])
        yield _from_mime(raw, fallback_id=str(number), where=f"message {number}")


def _from_mime(raw: bytes, *, fallback_id: str, where: str) -> ReplyMessage | BadRecord:
    try:
        return _read_mime(raw, fallback_id)
    except RecursionError:
        return BadRecord(where, "MIME parts nested too deeply")
    except ValueError as exc:
        return BadRecord(where, str(exc))


def _read_mime(raw: bytes, fallback_id: str) -> ReplyMessage:
    # compat32 keeps header values as sent: structured header parsing is where malformed
    # mail raises, and only a few headers are needed, each decoded on its own below
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not message.keys():
        raise ValueError("no mail headers found")
    headers: dict[str, str] = {}
    for key, value in message.items():
        headers.setdefault(_clean(key), _header_text(value))
    try:
        date = parse_date(headers.get("Date"))
    except ValueError:
        date = None
    ident = headers.get("Message-ID", "").strip().strip("<>") or fallback_id
    text, html = _bodies(message)
    return ReplyMessage(
        id=ident,
        date=date,
        sender=headers.get("From", ""),
        subject=headers.get("Subject", ""),
        headers=headers,
        body=text,
        html=html,
    )


def _header_text(value: object) -> str:
    """A header's text, RFC 2047 encoded words decoded where they decode."""
    raw = str(value)
    if "=?" not in raw:
        return _clean(raw)
    try:
        return _clean(str(make_header(decode_header(raw))))
    except (MessageError, LookupError, UnicodeError, ValueError):
        return _clean(raw)


def _bodies(message: Message) -> tuple[str, str | None]:
    """The first text/plain and the first text/html part that are not attachments."""
    text: str | None = None
    html: str | None = None
    for part in message.walk():
        if part.is_multipart() or part.get_filename() or _is_attachment(part):
            continue
        subtype = part.get_content_subtype() if part.get_content_maintype() == "text" else ""
        if subtype == "plain" and text is None:
            text = _decoded(part)
        elif subtype == "html" and html is None:
            html = _decoded(part)
    return text or "", html or None


def _is_attachment(part: Message) -> bool:
    return str(part.get("Content-Disposition", "")).strip().lower().startswith("attachment")


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return _clean(payload.decode(charset, "replace"))
    except LookupError:  # an unknown or made-up charset
        return _clean(payload.decode("utf-8", "replace"))
