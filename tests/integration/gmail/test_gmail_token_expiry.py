"""An access token that expires in the middle of a mailbox read (a list page or a batch)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from syncd.logging import configure
from syncd.testing.httpfake import Fault, FaultKind, Request
from syncd_gmail.fake import FakeGmail
from syncd_gmail.testing import CRM_SHARD, GmailTestbed
from tests.acceptance.chaos import decisions
from tests.wiring import wire_mailbox

CANARY = "GMcanaryX2mQ6"


class ExpireAt(Fault):
    """Expires every access token as the `nth` mailbox request arrives; the request goes on
    (and meets the expired token), so the fault never answers itself."""

    def __init__(self, fake: FakeGmail, nth: int) -> None:
        super().__init__(FaultKind.STATUS, times=10**9)
        self.fake, self.nth = fake, nth

    def matches(self, req: Request) -> bool:
        if "/gmail/" in req.path or "batch" in req.path:
            self.nth -= 1
            if self.nth == 0:
                self.fake.expire_tokens()
        return False


@pytest.mark.parametrize("nth", [2, 4])
def test_a_token_expiring_mid_read_is_renewed_and_each_reply_decided_once(
    tmp_path: Path, bed: GmailTestbed, nth: int
) -> None:
    """Gmail refuses the token part-way through the read (a later list page, or a batch of
    message gets): a new token is obtained, the read goes on, each reply is decided and
    labelled once, and no token (a canary planted in each) reaches a log line."""
    bed.fake.oauth.canary = CANARY
    out = io.StringIO()
    try:
        replies = [
            bed.reply(str(bed.person().email), "Not right now, maybe next quarter.")
            for _ in range(6)
        ]
        configure(level="debug", fmt="json", stream=out)
        connector = bed.open(page_size=2, batch_size=2)
        wired = wire_mailbox(
            tmp_path, ("gmail_rep", "gmail", bed.settings(), connector), CRM_SHARD, bed.directory
        )
        bed.fake.inject(ExpireAt(bed.fake, nth))
        wired.cycle()
        wired.cycle()
        wired.store.close()
    finally:
        bed.fake.oauth.canary = ""
    refused = [c for c in bed.fake.calls() if c.status == 401]
    assert refused, "the token never expired mid-read"
    decided = decisions(f"sqlite:///{tmp_path / 'state.db'}")
    assert len(decided) == len(replies) and set(decided.values()) == {1}, decided
    assert CANARY not in out.getvalue()
