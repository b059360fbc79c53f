"""An OAuth access token the portal expires in the middle of a read's search pages."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from syncd.config import ShardConfig
from syncd.logging import configure
from syncd.testing.httpfake import Fault, FaultKind, Request
from tests.acceptance.chaos import decisions
from tests.wiring import wire

if TYPE_CHECKING:
    from conftest import Portal

CANARY = "HScanaryJ3wE7"
DEALS, PAGE = 30, 10


class ExpireAt(Fault):
    """Expires every access token as the `nth` deals search arrives; the request goes on
    (and meets the expired token), so the fault never answers itself."""

    def __init__(self, portal: Portal, nth: int) -> None:
        super().__init__(FaultKind.STATUS, times=10**9)
        self.portal, self.nth = portal, nth

    def matches(self, req: Request) -> bool:
        if req.path.endswith("/deals/search"):
            self.nth -= 1
            if self.nth == 0:
                self.portal.fake.expire_tokens()
        return False


def test_a_token_expiring_between_search_pages_is_refreshed_and_nothing_decided_twice(
    portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The portal refuses the token at the second search page: the refresh token gets a new
    one, the page is asked for again, every deal is decided once and gets one task, and no
    access token (a canary planted in each) reaches a log line."""
    portal.add_syncd_key()
    for _ in range(DEALS):
        portal.lost_deal([portal.contact(portal.company())])
    monkeypatch.setenv("HS_CLIENT_SECRET", "app-secret")
    monkeypatch.setenv("HS_REFRESH", portal.fake.add_oauth_app("syncd-app", "app-secret"))
    portal.fake.canary = CANARY
    options = {
        "access_token": None,
        "client_id": "syncd-app",
        "client_secret": "env:HS_CLIENT_SECRET",
        "refresh_token": "env:HS_REFRESH",
        "page_size": PAGE,
    }
    out = io.StringIO()
    configure(level="debug", fmt="json", stream=out)
    conn = portal.connect("hs", **options)
    wired = wire(tmp_path, {"hs": (ShardConfig(type="hubspot"), portal.settings(**options), conn)})
    portal.fake.inject(ExpireAt(portal, nth=2))
    try:
        wired.cycle("hs")
        wired.cycle("hs")
    finally:
        wired.close()
    refused = [
        r for r in portal.fake.served if r.path.endswith("/deals/search") and r.status == 401
    ]
    assert refused, "the token never expired mid-read"
    decided = decisions(f"sqlite:///{tmp_path / 'state.db'}")
    assert len(decided) == DEALS and set(decided.values()) == {1}, decided
    keys = portal.task_keys()
    assert len(keys) == len(set(keys)) == DEALS
    assert all(CANARY in token for token in portal.fake.access_tokens)
    assert CANARY not in out.getvalue()
