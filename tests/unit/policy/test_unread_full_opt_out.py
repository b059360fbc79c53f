"""A fully opted-out person's reply that syncd could not read with confidence."""

from __future__ import annotations

from syncd.model import Channel, History, Intent, Outcome
from syncd.policy import PolicyConfig, decide
from tests.unit.policy.factories import NOW, account, person, reply

EVERYTHING = frozenset({Channel.EMAIL, Channel.PHONE})


def test_an_unread_reply_of_a_fully_opted_out_person_starts_no_colleague_touch() -> None:
    """The person stays opted out everywhere, and nothing automated starts from a reply
    nobody has read, not even entry points at colleagues (it may name one, or nobody)."""
    big = account(employees=800)
    me = person(1, acct=big, department="Finance", opted_out=EVERYTHING)
    colleagues = (
        person(2, acct=big, department="IT", title="CTO"),
        person(3, acct=big, department="Operations", title="COO"),
    )
    unread = reply(
        Intent.OTHER, who=me, review=True, review_reasons=("conflicting_cues",), confidence=0.4
    )
    decision = decide(unread, History(prospect=me, colleagues=colleagues), PolicyConfig(), NOW)
    assert decision.outcome is Outcome.OPTED_OUT and decision.plan is None
    assert decision.suppress >= EVERYTHING
    read = reply(Intent.NOT_INTERESTED, n=2, who=me)  # read with confidence: entry points
    decided = decide(read, History(prospect=me, colleagues=colleagues), PolicyConfig(), NOW)
    assert decided.plan is not None and decided.plan.touches
