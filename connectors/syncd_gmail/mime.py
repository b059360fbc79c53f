"""Gmail's message resource (format=full) read into plain values, and reply drafts written.

The payload is a MIME tree whose leaf bodies are base64url after transfer decoding; the
text is the first text/plain leaf that is not an attachment, the HTML the first text/html
one (HTML-only replies are common from Outlook). The HTML is kept as it is: the reply's new
text is taken out of it, quotes and all, by `syncd.replies` (see `htmltext`). Header values
may still carry RFC 2047 encoded words, so they are decoded here once.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|rv|r|ref|réf)\s*:\s*)+", re.IGNORECASE)


class Headers(Mapping[str, str]):
    """Message headers, looked up case-insensitively; the first occurrence wins."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            self._items.setdefault(name.lower(), (name, value))

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class GmailMessage:
    id: str
    thread_id: str
    label_ids: frozenset[str]
    internal_date: datetime
    headers: Headers
    text: str
    html: str | None

    @property
    def sender(self) -> tuple[str, str]:
        """(display name, lower-cased address) of From."""
        pairs = getaddresses([self.headers.get("From", "")])
        name, address = pairs[0] if pairs else ("", "")
        return name, address.strip().lower()

    @property
    def subject(self) -> str:
        return self.headers.get("Subject", "")

    @property
    def rfc822_id(self) -> str:
        return self.headers.get("Message-ID", "").strip()

    @property
    def date(self) -> datetime:
        """The Date header when it parses, else when Gmail received the message."""
        raw = self.headers.get("Date")
        if raw:
            try:
                parsed = parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None:
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return self.internal_date


def _decode_value(value: str) -> str:
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError):
        return value


def b64url_decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _charset(part: Mapping[str, Any]) -> str:
    for header in part.get("headers") or []:
        if str(header.get("name", "")).lower() == "content-type":
            match = re.search(r'charset="?([\w.:-]+)"?', str(header.get("value", "")), re.I)
            if match:
                return match.group(1)
    return "utf-8"


def _leaf_text(part: Mapping[str, Any]) -> str:
    data = (part.get("body") or {}).get("data")
    if not data:
        return ""
    raw = b64url_decode(str(data))
    try:
        return raw.decode(_charset(part), errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _first_leaf(part: Mapping[str, Any], mime_type: str) -> Mapping[str, Any] | None:
    """The first `mime_type` leaf that is not an attachment, depth first, without recursion
    (a message nested a thousand parts deep must not raise RecursionError)."""
    stack: list[Mapping[str, Any]] = [part]
    while stack:
        current = stack.pop()
        if current.get("mimeType") == mime_type and not current.get("filename"):
            return current
        children = current.get("parts") or []
        stack.extend(child for child in reversed(children) if isinstance(child, Mapping))
    return None


def parse_message(resource: Mapping[str, Any]) -> GmailMessage:
    """Read a messages.get(format=full) answer."""
    payload: Mapping[str, Any] = resource.get("payload") or {}
    headers = Headers(
        [
            (str(h.get("name", "")), _decode_value(str(h.get("value", ""))))
            for h in payload.get("headers") or []
        ]
    )
    text_part = _first_leaf(payload, "text/plain")
    html_part = _first_leaf(payload, "text/html")
    millis = int(resource.get("internalDate") or 0)
    return GmailMessage(
        id=str(resource["id"]),
        thread_id=str(resource.get("threadId") or resource["id"]),
        label_ids=frozenset(resource.get("labelIds") or ()),
        internal_date=datetime.fromtimestamp(millis / 1000, UTC),
        headers=headers,
        text=_leaf_text(text_part) if text_part is not None else "",
        html=_leaf_text(html_part) if html_part is not None else None,
    )


def reply_subject(subject: str) -> str:
    """ "Re: " plus the thread's subject, without stacking prefixes."""
    base = _REPLY_PREFIX.sub("", subject or "").strip()
    return f"Re: {base}" if base else "Re:"


def references_for(parent_references: str, parent_id: str) -> str:
    """RFC 5322: the parent's References followed by the parent's Message-ID."""
    ids = re.findall(r"<[^<>\s]+>", parent_references or "")
    if parent_id and parent_id not in ids:
        ids.append(parent_id)
    return " ".join(ids)


def compose_reply(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    in_reply_to: str,
    references: str,
    headers: Mapping[str, str],
    as_reply: bool = True,
) -> bytes:
    """An RFC 2822 message; as a reply, Gmail threads it (In-Reply-To, References, "Re:")."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = reply_subject(subject) if as_reply else subject
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in headers.items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def header_value(resource: Mapping[str, Any], name: str) -> str | None:
    """One header of a messages.get(format=metadata) answer."""
    for header in (resource.get("payload") or {}).get("headers") or []:
        if str(header.get("name", "")).lower() == name.lower():
            return str(header.get("value", ""))
    return None
