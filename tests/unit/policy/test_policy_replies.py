"""Inbox replies that are not a plain no, and events read twice or out of order."""

from __future__ import annotations

from datetime import date, timedelta

from syncd.model import Channel, History, Intent, Outcome, TouchKind
from syncd.policy import PolicyConfig, decide
from tests.unit.policy.factories import NOW, Engine, account, lost_deal, of_kind, person, reply

CFG = PolicyConfig()


def test_out_of_office_moves_touches_in_the_absence_to_after_the_return() -> None:
    """Away until Friday 14 June: the check-in due 10 June moves to Monday 17 June."""
    engine = Engine()
    who = engine.add(person())
    first = lost_deal(who=who.prospect, reason_raw="Lost to Competitor", competitor="Globex")
    engine.apply(first, who, decide(first, engine.history(who), CFG, NOW))
    assert who.plan is not None
    callback = who.plan.callback_on
    away_from = NOW + timedelta(days=50)
    engine.materialise(away_from.date())
    ooo = reply(Intent.OUT_OF_OFFICE, at=away_from, return_date=date(2024, 6, 14), auto_reply=True)
    decision = decide(ooo, engine.history(who), CFG, away_from)
    assert decision.outcome is Outcome.AUTO_REPLY
    assert of_kind(decision, TouchKind.THANK_YOU) == []
    plan = decision.plan
    assert plan is not None and plan.generation == 2
    assert [t.due for t in of_kind(decision, TouchKind.CHECK_IN)] == [date(2024, 6, 17)]
    assert all(t.due > date(2024, 6, 14) for t in plan.touches)
    assert plan.callback_on == callback  # January: not in the absence, not moved
    hit = next(h for h in decision.rules if h.rule_id == "reply.out_of_office")
    assert hit.inputs["back_on"] == "2024-06-17" and hit.inputs["moved"] >= 1


def test_an_auto_reply_without_a_return_date_changes_nothing() -> None:
    """An auto-reply leaves the live plan as it is."""
    decision = decide(reply(Intent.OUT_OF_OFFICE, auto_reply=True), History(), CFG, NOW)
    assert decision.outcome is Outcome.AUTO_REPLY
    assert decision.plan is None and not decision.cancel_plan


def test_a_referral_gets_a_task_for_the_referred_colleague_with_the_referrer_named() -> None:
    """'Talk to Sam instead': a task on Sam's record the next business day, naming Pat."""
    acct = account()
    pat = person(1, acct=acct, name="Pat Miller")
    sam = person(2, acct=acct, name="Sam Ortiz", email="sam@example.com")
    event = reply(Intent.REFERRAL, who=pat, referral_email="Sam@Example.com")
    decision = decide(event, History(prospect=pat, colleagues=(sam,)), CFG, NOW)
    (task,) = of_kind(decision, TouchKind.REFERRAL)
    assert task.target == sam.ref and task.due == date(2024, 3, 13)
    assert "Pat Miller referred you to Sam Ortiz" in task.brief
    assert decision.outcome is Outcome.NURTURE  # the referrer still fits: not dropped


def test_a_referral_to_someone_unknown_names_the_address_in_the_brief() -> None:
    """The referred person is not in the CRM yet: the task carries their address."""
    event = reply(Intent.REFERRAL, referral_email="new.person@example.com")
    (task,) = of_kind(decide(event, History(), CFG, NOW), TouchKind.REFERRAL)
    assert task.target is None and "new.person@example.com" in task.brief


def test_an_unclassifiable_reply_leaves_the_plan_alone() -> None:
    """'Who are you?' is neither a yes nor a no: nothing changes."""
    decision = decide(reply(Intent.OTHER), History(), CFG, NOW)
    assert decision.outcome is Outcome.IGNORED and decision.plan is None
    assert not decision.cancel_plan


def test_an_older_no_arriving_late_does_not_replace_the_newer_plan() -> None:
    """A backfilled no older than the latest one is recorded but changes nothing."""
    newer = lost_deal(2, at=NOW - timedelta(hours=1))
    older = lost_deal(1, at=NOW - timedelta(days=30))
    decision = decide(older, History(rejections=(newer,)), CFG, NOW)
    assert decision.outcome is Outcome.IGNORED and decision.plan is None
    assert "event.out_of_order" in [h.rule_id for h in decision.rules]


def test_an_older_opt_out_arriving_late_is_still_honoured() -> None:
    """Opt-outs are never out of date: the flag is written even for an old event."""
    newer = lost_deal(2, at=NOW - timedelta(hours=1))
    old_opt_out = reply(Intent.OPT_OUT, at=NOW - timedelta(days=30))
    decision = decide(old_opt_out, History(rejections=(newer,)), CFG, NOW)
    assert decision.outcome is Outcome.OPTED_OUT
    assert decision.suppress == frozenset(Channel)


def test_an_event_seen_before_but_not_the_latest_is_ignored() -> None:
    """Re-reading an old event id never counts twice."""
    first, second = lost_deal(1, at=NOW - timedelta(days=9)), lost_deal(2)
    decision = decide(first, History(rejections=(first, second)), CFG, NOW)
    assert decision.outcome is Outcome.IGNORED
    assert "event.duplicate" in [h.rule_id for h in decision.rules]
