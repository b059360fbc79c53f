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
from typing import Any
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


@dataclass
class Fault:
    kind: FaultKind
    response: Response | None = None
    hold_s: float = 5.0
    method: str | None = None  # only requests with this method
    path: str | None = None  # only paths matching this regex
    times: int = 1
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

    def __enter__(self) -> FakeHTTPServer:
        return self.start()

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
                return fault.response or Response(503, {"message": "unavailable"})
            if fault.kind is FaultKind.TIMEOUT:
                time.sleep(fault.hold_s)
                return None
            if fault.kind is FaultKind.DROP:
                return None
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
                fake.requests.append(LoggedRequest(req.method, req.path, status, time.time()))
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
