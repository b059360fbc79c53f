"""An access token that expires in the middle of a mailbox read (between two delta pages)."""

from __future__ import annotations

import io
from pathlib import Path

from syncd.logging import configure
from syncd.testing.httpfake import Fault, FaultKind, Request
from syncd_m365.testing import M365Testbed
from tests.acceptance.chaos import decisions
from tests.wiring import wire_mailbox

CANARY = "M365canaryR5tV8"


class ExpireAt(Fault):
    """Expires every token as the `nth` delta page is asked for; the request goes on (and
    meets the expired token), so the fault never answers itself."""

    def __init__(self, bed: M365Testbed, nth: int) -> None:
        super().__init__(FaultKind.STATUS, times=10**9)
        self.bed, self.nth = bed, nth

    def matches(self, req: Request) -> bool:
        if "/messages/delta" in req.path:
            self.nth -= 1
            if self.nth == 0:
                self.bed.fake.expire_tokens()
        return False


def test_a_token_expiring_mid_read_is_renewed_and_each_reply_decided_once(
    tmp_path: Path,
) -> None:
    """Graph refuses the token between the first and second delta page: the app gets a new
    token, the read goes on, each reply is decided and marked once, and no token (a canary
    planted in each) reaches a log line."""
    bed = M365Testbed.start(tmp_path)
    out = io.StringIO()
    try:
        bed.fake.canary = CANARY
        replies = [
            bed.reply(str(bed.person().email), "Not right now, maybe next quarter.")
            for _ in range(6)
        ]
        configure(level="debug", fmt="json", stream=out)
        wired = wire_mailbox(
            tmp_path,
            ("m365_rep", "m365", bed.settings(), bed.open(page_size=2)),
            "hubspot",
            bed.directory,
        )
        bed.fake.inject(ExpireAt(bed, nth=2))
        wired.cycle()
        wired.cycle()
        wired.store.close()
        refused = [c.status for c in bed.fake.calls() if c.status == 401]
        refused += [status for _, _, status in bed.fake.inner_requests if status == 401]
    finally:
        bed.stop()
    assert refused, "the token never expired mid-read"
    decided = decisions(f"sqlite:///{tmp_path / 'state.db'}")
    assert len(decided) == len(replies) and set(decided.values()) == {1}, decided
    assert all(bed.categories_of(r.id).count("syncd/processed") == 1 for r in replies)
    assert all(CANARY in token for token in bed.fake.tokens.issued)
    assert CANARY not in out.getvalue()
