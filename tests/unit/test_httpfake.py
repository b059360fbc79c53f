"""The fake-HTTP-server base every vendor fake builds on."""

from __future__ import annotations

import http.client

import pytest
import requests

from syncd.testing.httpfake import FakeHTTPServer, Fault, FaultKind, RateLimit, Request, Response


class Counter(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.value = 0
        self.route("POST", r"/inc", self._inc)
        self.route("GET", r"/items/(?P<item>\w+)", self._get)

    def _inc(self, req: Request) -> Response:
        with self.lock:
            self.value += 1
            return Response(201, {"value": self.value})

    def _get(self, req: Request, item: str) -> Response:
        return Response(200, {"item": item, "q": req.arg("q")})


@pytest.fixture
def fake() -> Counter:
    server = Counter().start()
    yield server  # type: ignore[misc]
    server.stop()


def test_routes_answer_with_named_groups_and_query(fake: Counter) -> None:
    """Handlers receive path groups and query arguments; unknown paths get a 404."""
    assert requests.get(f"{fake.base_url}/items/abc?q=1", timeout=5).json() == {
        "item": "abc",
        "q": "1",
    }
    assert requests.get(f"{fake.base_url}/nope", timeout=5).status_code == 404
    assert [(r.method, r.status) for r in fake.calls()] == [("GET", 200), ("GET", 404)]


def test_status_fault_answers_without_applying(fake: Counter) -> None:
    """An injected 503 is answered once and the request is not applied."""
    fake.inject(Fault(FaultKind.STATUS, Response(503, {"m": "down"}), method="POST"))
    assert requests.post(f"{fake.base_url}/inc", timeout=5).status_code == 503
    assert fake.value == 0
    assert requests.post(f"{fake.base_url}/inc", timeout=5).status_code == 201


def test_applied_lost_applies_then_drops_the_connection(fake: Counter) -> None:
    """The write happens, yet the client sees the connection closed without a response."""
    fake.inject(Fault(FaultKind.APPLIED_LOST))
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{fake.base_url}/inc", timeout=5)
    assert fake.value == 1


def test_timeout_fault_holds_past_the_client_timeout(fake: Counter) -> None:
    """A held request makes the client's read timeout fire."""
    fake.inject(Fault(FaultKind.TIMEOUT, hold_s=1.0))
    with pytest.raises(requests.Timeout):
        requests.post(f"{fake.base_url}/inc", timeout=0.2)


def test_rate_limit_answers_429_beyond_the_window_budget(fake: Counter) -> None:
    """Past `limit` requests in the window the fake answers its vendor's 429."""
    fake.rate_limits.append(RateLimit(2, 60))
    codes = [requests.post(f"{fake.base_url}/inc", timeout=5).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_drop_closes_without_applying(fake: Counter) -> None:
    """A dropped request is neither answered nor applied."""
    fake.inject(Fault(FaultKind.DROP))
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    conn.request("POST", "/inc")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    assert fake.value == 0
