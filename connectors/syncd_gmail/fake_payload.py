"""Gmail's message resource, rendered from a stored RFC 822 message.

`full` is the MIME tree as Gmail returns it (partId "", "0", "0.1"…, headers as name/value
pairs, leaf bodies base64url-encoded after transfer decoding, attachments by attachmentId),
`metadata` the headers only (optionally just `metadataHeaders`), `minimal` no payload, and
`raw` the whole message base64url-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from email.message import Message
from typing import Any

from syncd_gmail.fake_store import StoredMessage

FORMATS = ("minimal", "full", "raw", "metadata")
_TAGS = re.compile(r"<[^>]+>")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def attachment_id(message_id: str, part_id: str) -> str:
    digest = hashlib.sha256(f"{message_id}/{part_id}".encode()).digest()
    return "ANGjdJ" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _headers(part: Message, only: set[str] | None = None) -> list[dict[str, str]]:
    return [
        {"name": name, "value": str(value)}
        for name, value in part.items()
        if only is None or name.lower() in only
    ]


def _part(message_id: str, part: Message, part_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": _headers(part),
    }
    if part.is_multipart():
        resource["body"] = {"size": 0}
        children = part.get_payload()
        assert isinstance(children, list)
        prefix = f"{part_id}." if part_id else ""
        resource["parts"] = [
            _part(message_id, child, f"{prefix}{i}") for i, child in enumerate(children)
        ]
        return resource
    data = part.get_payload(decode=True)
    content = data if isinstance(data, bytes) else b""
    if resource["filename"]:
        resource["body"] = {
            "attachmentId": attachment_id(message_id, part_id),
            "size": len(content),
        }
    else:
        resource["body"] = (
            {"size": len(content), "data": b64url(content)} if content else {"size": 0}
        )
    return resource


def find_attachment(message: StoredMessage, wanted: str) -> bytes | None:
    """The decoded bytes of the attachment with this id, if the message has it."""

    def walk(part: Message, part_id: str) -> bytes | None:
        if part.is_multipart():
            children = part.get_payload()
            assert isinstance(children, list)
            prefix = f"{part_id}." if part_id else ""
            for i, child in enumerate(children):
                found = walk(child, f"{prefix}{i}")
                if found is not None:
                    return found
            return None
        if part.get_filename() and attachment_id(message.id, part_id) == wanted:
            data = part.get_payload(decode=True)
            return data if isinstance(data, bytes) else b""
        return None

    return walk(message.parsed, "")


def snippet(message: StoredMessage) -> str:
    """About the first 200 characters of the text, whitespace collapsed, HTML-escaped."""
    text = ""
    for part in message.parsed.walk():
        if part.is_multipart() or part.get_filename():
            continue
        if part.get_content_type() in ("text/plain", "text/html"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                text = data.decode(part.get_content_charset() or "utf-8", errors="replace")
                if part.get_content_type() == "text/html":
                    text = html.unescape(_TAGS.sub(" ", text))
                break
    collapsed = " ".join(text.split())[:200]
    return html.escape(collapsed, quote=True).replace("&#x27;", "&#39;")


def render(
    message: StoredMessage, fmt: str = "full", metadata_headers: list[str] | None = None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": message.id,
        "threadId": message.thread_id,
        "labelIds": sorted(message.label_ids),
        "snippet": snippet(message),
        "sizeEstimate": len(message.raw),
        "historyId": str(message.history_id),
        "internalDate": str(message.internal_date_ms),
    }
    if fmt == "raw":
        resource["raw"] = b64url(message.raw)
    elif fmt == "metadata":
        only = {h.lower() for h in metadata_headers} if metadata_headers else None
        resource["payload"] = {
            "mimeType": message.parsed.get_content_type(),
            "headers": _headers(message.parsed, only),
        }
    elif fmt == "full":
        resource["payload"] = _part(message.id, message.parsed, "")
    return resource


def reference(message: StoredMessage) -> dict[str, Any]:
    """The short form in list and history answers."""
    return {"id": message.id, "threadId": message.thread_id}
