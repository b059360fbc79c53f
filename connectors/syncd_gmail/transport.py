"""The HTTP transport under google-api-python-client: httplib2 with a timeout, TLS verified,
and no silent replay of writes.

httplib2 re-sends a request whose connection closed before the status line arrived,
whatever its method (it assumes a stale keep-alive socket). For a draft that the server
created before the connection dropped, that replay makes a second draft. Inside
`no_replay()` such a closed connection raises `ResponseLost` instead, idle connections are
closed first (so a stale socket is not mistaken for a lost answer), and the caller reports
the write in doubt.
"""

from __future__ import annotations

import contextvars
import http.client
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httplib2

from syncd import httpstats

_REPLAY_ALLOWED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "syncd_gmail_replay_allowed", default=True
)


class ResponseLost(ConnectionAbortedError):
    """The server closed the connection after the request was sent, before answering."""


class _NoReplay:
    """Connection mixin: inside `no_replay()`, a closed connection is a lost response."""

    def getresponse(self) -> Any:
        try:
            return super().getresponse()  # type: ignore[misc]
        except http.client.BadStatusLine as exc:  # RemoteDisconnected included
            if _REPLAY_ALLOWED.get():
                raise
            raise ResponseLost("connection closed before the response arrived") from exc


class _HTTPConnection(_NoReplay, httplib2.HTTPConnectionWithTimeout):  # type: ignore[misc]
    pass


class _HTTPSConnection(_NoReplay, httplib2.HTTPSConnectionWithTimeout):  # type: ignore[misc]
    pass


_CONNECTIONS = {"http": _HTTPConnection, "https": _HTTPSConnection}


class GuardedHttp(httplib2.Http):  # type: ignore[misc]
    """httplib2.Http whose connections honour `no_replay()`."""

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        redirections: int = httplib2.DEFAULT_MAX_REDIRECTS,
        connection_type: Any = None,
    ) -> Any:
        if connection_type is None:
            connection_type = _CONNECTIONS.get(urlsplit(uri).scheme)
        try:
            answer = super().request(uri, method, body, headers, redirections, connection_type)
        except Exception:
            httpstats.response("gmail", None)
            raise
        httpstats.response("gmail", int(getattr(answer[0], "status", 0)) or None)
        return answer

    def close_idle(self) -> None:
        for conn in list(self.connections.values()):
            conn.close()


def build_http(timeout_s: float, ca_bundle: str | None) -> GuardedHttp:
    """A transport with a timeout on every call; certificate verification is never off."""
    return GuardedHttp(timeout=timeout_s, ca_certs=ca_bundle)


@contextmanager
def no_replay(http: GuardedHttp) -> Iterator[None]:
    """Run a non-idempotent call: a dropped answer raises ResponseLost, never a re-send."""
    http.close_idle()
    token = _REPLAY_ALLOWED.set(False)
    try:
        yield
    finally:
        _REPLAY_ALLOWED.reset(token)
