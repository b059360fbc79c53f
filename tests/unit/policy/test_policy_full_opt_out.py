"""A full opt-out (`[policy.suppress]`): the person is left alone, the account is not."""

from __future__ import annotations

from datetime import timedelta

from syncd.model import Channel, History, Outcome, RejectionEvent, TouchKind, WriteKind
from syncd.policy import decide, recheck, review
from syncd.policy.config import PolicyConfig, SuppressConfig
from tests.unit.policy.factories import NOW, account, lost_deal, person

BIG = account(employees=2000)
BOTH = frozenset({Channel.EMAIL, Channel.PHONE})
COLLEAGUES = (
    person(2, acct=BIG, title="CFO", department="Finance"),
    person(3, acct=BIG, title="Head of IT", department="IT"),
)


def _event() -> RejectionEvent:
    return lost_deal(who=person(1, acct=BIG, opted_out=BOTH))


def test_a_full_opt_out_gets_no_touch_but_colleagues_are_suggested() -> None:
    """Opted out of e-mail and phone: nothing reaches them (no LinkedIn, no note), while the
    owner is pointed at colleagues in other departments; the plan names the rule."""
    decision = decide(_event(), History(colleagues=COLLEAGUES), PolicyConfig(), NOW)
    assert decision.outcome is Outcome.OPTED_OUT
    assert "suppress.all" in [h.rule_id for h in decision.rules]
    assert decision.plan is not None
    touches = decision.plan.touches
    assert touches and all(t.kind is TouchKind.ENTRY_POINT for t in touches)
    assert {t.target for t in touches} <= {c.ref for c in COLLEAGUES}
    assert all(t.suppress_channel not in BOTH for t in touches)


def test_colleague_tasks_survive_the_write_time_check_and_the_daily_review() -> None:
    """The colleague tasks are written when due and the next day's review keeps them."""
    event = _event()
    decision = decide(event, History(colleagues=COLLEAGUES), PolicyConfig(), NOW)
    assert decision.plan is not None
    later = NOW + timedelta(days=1)
    kept = History(
        prospect=event.prospect, rejections=(event,), plan=decision.plan, colleagues=COLLEAGUES
    )
    assert review(kept, PolicyConfig(), later) is None
    assert decision.plan.touches, "there are colleague tasks to check"
    for touch in decision.plan.touches:
        assert recheck(touch, kept, PolicyConfig(), later) is None


def test_turning_suppress_all_off_keeps_only_the_open_channels() -> None:
    """With `all = false`, a full opt-out closes e-mail and phone only: the nurture goes on
    by LinkedIn and post, and the plan says the admin chose so."""
    cfg = PolicyConfig(suppress=SuppressConfig(all=False))
    decision = decide(_event(), History(), cfg, NOW)
    assert decision.outcome is Outcome.NURTURE
    assert "suppress.all_off" in [h.rule_id for h in decision.rules]
    assert decision.plan is not None
    channels = {t.suppress_channel for t in decision.plan.touches if t.write is WriteKind.TASK}
    assert channels & {Channel.LINKEDIN, Channel.MAIL}
    assert not channels & BOTH
