"""Google's batch wire format: multipart/mixed of application/http parts, in and out.

A request part carries one HTTP request (request line, headers, body) and a
`Content-ID: <base + n>`; the answer part for it carries `Content-ID: <response-base + n>`
and the HTTP response, header lines ended by CRLF as Google sends them (the client library
splits the part at the first blank CRLF line).
"""

from __future__ import annotations

import email.parser
import email.policy
import secrets
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

from syncd.testing.httpfake import Request, Response

MAX_CALLS = 100  # Gmail's limit per batch request


class BatchFormatError(ValueError):
    """The body is not a multipart/mixed batch."""


@dataclass(frozen=True)
class BatchPart:
    content_id: str
    request: Request


def parse_batch(content_type: str, body: bytes) -> list[BatchPart]:
    envelope = f"Content-Type: {content_type}\r\n\r\n".encode() + body
    outer = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(envelope)
    if not outer.is_multipart():
        raise BatchFormatError("batch body is not multipart/mixed")
    payload = outer.get_payload()
    assert isinstance(payload, list)
    return [_parse_part(part) for part in payload if isinstance(part, Message)]


def _parse_part(part: Message) -> BatchPart:
    content_id = str(part.get("Content-ID", "")).strip()
    text = part.get_payload()
    if not isinstance(text, str) or not text.strip():
        raise BatchFormatError("empty batch part")
    request_line, _, rest = text.lstrip("\r\n").partition("\n")
    pieces = request_line.strip().split(" ")
    if len(pieces) < 2:
        raise BatchFormatError("bad request line in batch part")
    method, target = pieces[0], pieces[1]
    inner = email.parser.Parser(policy=email.policy.compat32).parsestr(rest)
    inner_body = inner.get_payload()
    raw_body = inner_body.encode() if isinstance(inner_body, str) else b""
    length = inner.get("content-length")
    raw_body = raw_body[: int(length)] if length and length.isdigit() else raw_body.strip()
    url = urlsplit(target)
    path = unquote(url.path)  # decoded, as the server decodes an outer request's path
    return BatchPart(content_id, Request(method, path, parse_qs(url.query), inner, raw_body))


def response_content_id(content_id: str) -> str:
    inner = content_id.strip().removeprefix("<").removesuffix(">")
    return f"<response-{inner}>"


def render_batch(answers: list[tuple[str, Response]]) -> Response:
    boundary = "batch_" + secrets.token_urlsafe(12)
    chunks: list[bytes] = []
    for content_id, resp in answers:
        reason = (
            HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ else ""
        )
        head = [f"HTTP/1.1 {resp.status} {reason}"]
        if resp.body is not None:
            head.append(f"Content-Type: {resp.content_type}")
        head.extend(f"{k}: {v}" for k, v in resp.headers.items())
        head.append("Vary: Origin")
        http_text = "\r\n".join(head).encode() + b"\r\n\r\n" + resp.encode()
        part_head = (
            f"--{boundary}\r\nContent-Type: application/http\r\n"
            f"Content-ID: {response_content_id(content_id)}\r\n\r\n"
        )
        chunks.append(part_head.encode() + http_text + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return Response(200, body, content_type=f"multipart/mixed; boundary={boundary}")
