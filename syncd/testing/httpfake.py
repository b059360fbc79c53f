"""The base of every local vendor fake: a threaded HTTP server on 127.0.0.1.

A vendor fake subclasses `FakeHTTPServer`, registers its routes and keeps its own state
under `self.lock`. The base gives every fake the same switches, so tests and benchmarks can
drive them alike: latency, a rate limit, a schedule of faults (an error status, a timeout, a
dropped connection, or a write that is applied but whose response is lost) and a request log.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # bytes / str sent as is, anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class FaultKind(StrEnum):
    STATUS = "status"  # answer with `response` without applying the request
    TIMEOUT = "timeout"  # hold the request for `hold_s`, then close without answering
    DROP = "drop"  # close the connection without answering, nothing applied
    APPLIED_LOST = "applied_lost"  # apply the request, then close without answering
    MALFORMED = "malformed"  # apply the request, then garble its answer (see Malformed)


class Malformed(StrEnum):
    """How a MALFORMED fault garbles an answer that otherwise succeeded."""

    MISSING_KEY = "missing_key"  # drop `Fault.key` (default: every key) from the JSON object
    WRONG_TYPE = "wrong_type"  # each top-level value (or `Fault.key`'s) of the wrong type
    TRUNCATED = "truncated"  # the JSON cut off half-way
    HTML = "html"  # a proxy's HTML error page, with status 200
    BAD_RECORD = "bad_record"  # the first record of the answer's list has wrong-typed fields


@dataclass
class Fault:
    kind: FaultKind
    response: Response | None = None
    hold_s: float = 5.0
    method: str | None = None  # only requests with this method
    path: str | None = None  # only paths matching this regex
    times: int = 1
    # STATUS only: the body also echoes the request's Authorization header, as some gateways
    # and error pages do (the run-time token must then be scrubbed before any log or store).
    echo_auth: bool = False
    malformed: Malformed = Malformed.MISSING_KEY  # MALFORMED only: how
    key: str | None = None  # MALFORMED only: the key to drop or garble
    # the share of matching requests hit (0.5: a 50 % storm), drawn from a seeded generator
    # so a run is repeatable
    chance: float = 1.0
    rng: random.Random = field(default_factory=lambda: random.Random(13))

    def matches(self, req: Request) -> bool:
        if self.method and req.method != self.method:
            return False
        return not (self.path and not re.search(self.path, req.path))


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int  # 0 when no response was sent
    at: float


Handler = Callable[..., Response]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class RateLimit:
    """At most `limit` requests per rolling `window_s` (for paths matching `path`)."""

    def __init__(self, limit: int, window_s: float, path: str | None = None):
        self.limit = limit
        self.window_s = window_s
        self.path = path
        self._hits: deque[float] = deque()

    def admit(self, req: Request, now: float) -> bool:
        if self.path and not re.search(self.path, req.path):
            return True
        while self._hits and now - self._hits[0] >= self.window_s:
            self._hits.popleft()
        if len(self._hits) >= self.limit:
            return False
        self._hits.append(now)
        return True

    def remaining(self, now: float) -> int:
        while self._hits and now - self._hits[0] >= self.window_s:
            self._hits.popleft()
        return max(0, self.limit - len(self._hits))


class FakeHTTPServer:
    """Subclass, register routes in `__init__` with `self.route(...)`, then `start()`."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        self.lock = threading.RLock()
        self.latency_s = 0.0
        self.rate_limits: list[RateLimit] = []
        self.faults: deque[Fault] = deque()
        self.requests: list[LoggedRequest] = []
        # What stamps `LoggedRequest.at`: a test that drives the client on a controlled clock
        # sets the same clock here, so request spacing is measured on the server's side.
        self.request_clock: Callable[[], float] = time.time
        # Read-only: every request that would change the vendor's data is refused (and kept in
        # `refused_writes`), so a test proves a command wrote nothing remotely.
        self.read_only = False
        self.refused_writes: list[str] = []
        self._routes: list[_Route] = []
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- set-up --------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """`pattern` is a regex on the path; named groups are passed to the handler."""
        self._routes.append(_Route(method, re.compile(f"^{pattern}$"), handler))

    def inject(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def malform(
        self,
        how: Malformed | str,
        *,
        key: str | None = None,
        path: str | None = None,
        method: str | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` matching answers succeed but arrive garbled (see Malformed)."""
        fault = Fault(FaultKind.MALFORMED, path=path, method=method, times=times, key=key)
        fault.malformed = Malformed(how)
        self.inject(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    # --- hooks a vendor fake overrides to speak its own error dialect --------------------

    def rate_limited(self, req: Request) -> Response:
        return Response(429, {"message": "rate limited"}, {"Retry-After": "1"})

    def not_found(self, req: Request) -> Response:
        return Response(404, {"message": f"no route for {req.method} {req.path}"})

    def decorate(self, req: Request, resp: Response) -> None:
        """Add headers every response carries (rate-limit and usage headers)."""

    def is_write(self, req: Request) -> bool:
        """True when the request would change data; vendor fakes name their reads that POST
        (searches, batch reads, token grants)."""
        return req.method not in ("GET", "HEAD")

    def refuse_write(self, req: Request) -> Response:
        return Response(403, {"message": f"read-only fake: {req.method} {req.path} refused"})

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> FakeHTTPServer:
        server = ThreadingHTTPServer((self._host, self._port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(self.POLL_S,), name="fake-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # serve_forever polls for shutdown this often: short, so stopping a fake is quick
    POLL_S = 0.05

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def calls(self, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """Logged requests, optionally filtered by method and a path regex."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method)
                and (path is None or re.search(path, r.path))
            ]

    # --- dispatch ----------------------------------------------------------------------------

    def _next_fault(self, req: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(req):
                    if fault.chance < 1.0 and fault.rng.random() >= fault.chance:
                        continue
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _apply(self, req: Request) -> Response:
        for route in self._routes:
            if route.method != req.method:
                continue
            match = route.pattern.match(req.path)
            if match:
                return route.handler(req, **match.groupdict())
        return self.not_found(req)

    def handle(self, req: Request) -> Response | None:
        """The whole request pipeline; None means close the connection without answering."""
        if self.latency_s:
            time.sleep(self.latency_s)
        fault = self._next_fault(req)
        if fault is not None:
            if fault.kind is FaultKind.STATUS:
                resp = fault.response or Response(503, {"message": "unavailable"})
                return _echo_auth(resp, req) if fault.echo_auth else resp
            if fault.kind is FaultKind.TIMEOUT:
                time.sleep(fault.hold_s)
                return None
            if fault.kind is FaultKind.DROP:
                return None
            if fault.kind is FaultKind.MALFORMED:
                return garble(self._apply(req), fault.malformed, fault.key)
            self._apply(req)  # APPLIED_LOST
            return None
        if self.read_only and self.is_write(req):
            with self.lock:
                self.refused_writes.append(f"{req.method} {req.path}")
            return self.refuse_write(req)
        now = time.monotonic()
        with self.lock:
            admitted = all(limit.admit(req, now) for limit in self.rate_limits)
        if not admitted:
            return self.rate_limited(req)
        return self._apply(req)


_RECORD_LISTS = ("results", "records", "history", "messages", "drafts", "labels")


def _wrong(value: Any) -> Any:
    if isinstance(value, dict):
        return ["not", "an", "object"]
    if isinstance(value, list):
        return "not a list"
    if isinstance(value, str):
        return {"not": "a string"}
    return "not a number"


def garble(resp: Response, how: Malformed, key: str | None) -> Response:
    """`resp` with its body garbled `how`; the status stays (a 2xx the client will parse)."""
    body = resp.body
    if how is Malformed.HTML:
        page = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
        return Response(200, page + "</body></html>", {}, "text/html")
    if how is Malformed.TRUNCATED:
        text = resp.encode()
        return Response(
            resp.status, text[: max(1, len(text) // 2)], resp.headers, "application/json"
        )
    if not isinstance(body, dict):
        body = {"unexpected": body}
    if how is Malformed.MISSING_KEY:
        body = {k: v for k, v in body.items() if key is not None and k != key}
    elif how is Malformed.WRONG_TYPE:
        body = {k: (_wrong(v) if key is None or k == key else v) for k, v in body.items()}
    else:  # BAD_RECORD
        body = dict(body)
        for name in _RECORD_LISTS:
            items = body.get(name)
            if isinstance(items, list) and items and isinstance(items[0], dict):
                first = items[0]
                bad = {k: (v if k in ("id", "Id", "attributes") else []) for k, v in first.items()}
                body[name] = [bad, *items[1:]]
                break
    return Response(resp.status, body, resp.headers, resp.content_type)


def _echo_auth(resp: Response, req: Request) -> Response:
    echoed = {"Authorization": req.headers.get("Authorization", "")}
    if isinstance(resp.body, dict):
        body: Any = {**resp.body, "request": {"headers": echoed}}
    elif isinstance(resp.body, list):
        body = [
            {**item, "request": {"headers": echoed}} if isinstance(item, dict) else item
            for item in resp.body
        ]
    else:
        body = f"{resp.body or ''} (request headers: {echoed})"
    return Response(resp.status, body, dict(resp.headers), resp.content_type)


def _make_handler(fake: FakeHTTPServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # small responses must not wait for a delayed ACK

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests
            return

        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Request(
                self.command, unquote(parts.path), parse_qs(parts.query), self.headers, body
            )
            try:
                resp = fake.handle(req)
            except Exception as exc:  # a bug in a fake must show as a 500, not a hang
                resp = Response(500, {"message": f"fake server error: {exc!r}"})
            status = 0 if resp is None else resp.status
            with fake.lock:  # logged before answering: a client never sees an unlogged reply
                fake.requests.append(
                    LoggedRequest(req.method, req.path, status, fake.request_clock())
                )
            if resp is None:
                self.close_connection = True
                return
            fake.decorate(req, resp)
            payload = resp.encode()
            self.send_response(resp.status)
            if payload or resp.status not in (204, 304):
                self.send_header("Content-Type", resp.content_type)
            for name, value in resp.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch

    return _Handler
