"""`review` (daily, per live plan) and `recheck` (right before a touch is written)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from syncd.model import Channel, History, Outcome, TaskChannel, Touch, TouchKind, WriteKind
from syncd.policy import PolicyConfig, decide, recheck, review
from tests.unit.policy.factories import (
    NOW,
    Engine,
    Person,
    account,
    contact_touches,
    lost_deal,
    of_kind,
    person,
)

CFG = PolicyConfig()


def planned(cfg: PolicyConfig = CFG, **deal: object) -> tuple[Engine, Person]:
    engine = Engine(cfg.horizon_days)
    who = engine.add(person())
    event = lost_deal(who=who.prospect, **deal)  # type: ignore[arg-type]
    engine.apply(event, who, decide(event, engine.history(who), cfg, NOW))
    engine.materialise(NOW.date())
    return engine, who


def test_an_unchanged_plan_is_left_alone() -> None:
    """Nothing changed since yesterday: `review` returns None and the engine does nothing."""
    engine, who = planned()
    assert review(engine.history(who), CFG, NOW + timedelta(days=1)) is None


def test_an_account_that_no_longer_fits_cancels_the_plan() -> None:
    """The company shrank below the profile: the plan is cancelled with the failing criterion."""
    cfg = PolicyConfig(icp={"min_employees": 50})
    engine, who = planned(cfg)
    who.prospect = replace(who.prospect, account=account(employees=20))
    decision = review(engine.history(who), cfg, NOW + timedelta(days=30))
    assert decision is not None and decision.outcome is Outcome.NOT_A_FIT
    assert decision.cancel_plan and decision.plan is None
    hit = next(h for h in decision.rules if h.rule_id == "review.fit.not_a_fit")
    assert hit.inputs["failing"] == ["employees.below_min"]


def test_an_open_opportunity_cancels_the_nurture_plan() -> None:
    """A rep is working them again: nurture stops."""
    engine, who = planned()
    who.active = True
    decision = review(engine.history(who), CFG, NOW + timedelta(days=3))
    assert decision is not None and decision.outcome is Outcome.ACTIVE and decision.cancel_plan


def test_touches_move_off_a_channel_opted_out_since_under_fresh_seqs() -> None:
    """A phone opt-out recorded later: the call-back becomes an e-mail, phone steps drop out."""
    engine, who = planned()
    who.suppressed = frozenset({Channel.PHONE})
    later = NOW + timedelta(days=10)
    old_seqs = {t.seq for t in who.plan.touches}  # type: ignore[union-attr]
    decision = review(engine.history(who), CFG, later)
    assert decision is not None and decision.outcome is Outcome.NURTURE
    plan = decision.plan
    assert plan is not None and plan.generation == 1
    ahead = [t for t in plan.touches if t.due > later.date() + timedelta(days=8)]
    assert ahead and all(t.suppress_channel is not Channel.PHONE for t in ahead)
    (callback,) = [t for t in plan.touches if t.kind is TouchKind.CALLBACK]
    assert callback.channel is TaskChannel.EMAIL and callback.due == plan.callback_on
    assert not {t.seq for t in ahead} & old_seqs
    hit = next(h for h in decision.rules if h.rule_id == "review.suppression")
    assert hit.inputs["rechannelled"] >= 1


def test_a_call_back_that_passed_without_answer_starts_the_next_cycle() -> None:
    """Half a year on, no new no and no yes: a new cycle with a future call-back, same plan."""
    engine, who = planned()
    first_callback = who.plan.callback_on  # type: ignore[union-attr]
    assert first_callback is not None
    after = NOW + timedelta(days=(first_callback - NOW.date()).days + 2)
    engine.materialise(after.date())
    decision = review(engine.history(who), CFG, after)
    assert decision is not None and decision.outcome is Outcome.NURTURE
    plan = decision.plan
    assert plan is not None and plan.generation == 1
    assert plan.callback_on is not None and plan.callback_on > after.date()
    assert of_kind(decision, TouchKind.THANK_YOU) == []  # nothing to thank them for
    assert len(contact_touches(plan)) >= 3
    assert "cycle.restart" in [h.rule_id for h in decision.rules]
    assert min(t.seq for t in plan.touches) >= 100  # a block of seqs never used before


def test_recheck_names_why_a_touch_must_not_be_written() -> None:
    """Each re-check reason cancels a touch; an opt-out write always goes through."""
    cfg = PolicyConfig(icp={"min_employees": 50})
    me = person(acct=account(employees=200))
    decision = decide(lost_deal(who=me), History(), cfg, NOW)
    touches = decision.plan.touches  # type: ignore[union-attr]
    email = next(t for t in touches if t.suppress_channel is Channel.EMAIL)
    ok = History(prospect=me)
    assert recheck(email, ok, cfg, NOW) is None
    assert recheck(email, replace(ok, suppressed=frozenset({Channel.EMAIL})), cfg, NOW) == (
        "suppressed.email"
    )
    everything = frozenset({Channel.EMAIL, Channel.PHONE})
    assert recheck(email, replace(ok, suppressed=everything), cfg, NOW) == "suppressed.all"
    shrunk = replace(me, account=account(employees=10))
    assert recheck(email, History(prospect=shrunk), cfg, NOW) == "not_a_fit"
    assert recheck(email, replace(ok, active=True), cfg, NOW) == "active"
    opt_out = replace(email, write=WriteKind.OPT_OUT, kind=TouchKind.OPT_OUT)
    assert recheck(opt_out, replace(ok, suppressed=everything), cfg, NOW) is None


def test_recheck_cancels_a_touch_about_a_colleague_who_opted_out() -> None:
    """An entry-point task for a colleague stops once that colleague opts out."""
    big = account(employees=900)
    me = person(1, acct=big, department="Finance")
    cto = person(2, acct=big, department="IT", title="CTO")
    decision = decide(lost_deal(who=me), History(prospect=me, colleagues=(cto,)), CFG, NOW)
    (entry,) = of_kind(decision, TouchKind.ENTRY_POINT)
    gone = replace(cto, opted_out=frozenset({Channel.EMAIL, Channel.PHONE}))
    assert recheck(entry, History(prospect=me, colleagues=(cto,)), CFG, NOW) is None
    assert recheck(entry, History(prospect=me, colleagues=(gone,)), CFG, NOW) == (
        "target_suppressed"
    )


def test_recheck_drops_a_thank_you_that_would_arrive_weeks_late() -> None:
    """A thank-you held up past ack_max_age_days (an outage) is not sent any more."""
    me = person()
    decision = decide(lost_deal(who=me), History(), CFG, NOW)
    (thanks,) = of_kind(decision, TouchKind.THANK_YOU)
    assert recheck(thanks, History(prospect=me), CFG, NOW + timedelta(days=3)) is None
    weeks_later = NOW + timedelta(days=30)
    assert recheck(thanks, History(prospect=me), CFG, weeks_later) == "stale_acknowledgement"


def test_a_backfilled_old_rejection_is_not_thanked_and_is_called_back_from_now() -> None:
    """A no from a year ago read today: no thank-you, and the call-back counts from today."""
    old = lost_deal(at=NOW - timedelta(days=400), reason_raw="BAD_TIMING")
    decision = decide(old, History(), CFG, NOW)
    assert of_kind(decision, TouchKind.THANK_YOU) == []
    assert decision.plan is not None and decision.plan.callback_on == date(2024, 6, 10)
    assert "callback.rebased" in [h.rule_id for h in decision.rules]


def test_a_release_touch_not_yet_written_leaves_a_channel_opted_out_for_an_owner_east_of_utc() -> (
    None
):
    """Found by the review invariant: an owner in Tokyo is a day ahead of the UTC date the
    materialiser writes by, so a release e-mail due just past the written horizon was taken as
    already written and kept on e-mail after an e-mail opt-out; it now moves channel."""
    cfg = PolicyConfig(
        releases=[{"date": date(2024, 4, 21), "title": "SSO", "tags": ["sso"]}],
    )
    engine = Engine(cfg.horizon_days)
    who = engine.add(person(tz="Asia/Tokyo"))
    event = lost_deal(who=who.prospect, reason_raw="Lost to Competitor", quote="No SSO.")
    engine.apply(event, who, decide(event, engine.history(who), cfg, NOW))
    engine.materialise(NOW.date())
    (release,) = of_kind_plan(who, TouchKind.RELEASE)
    assert release.channel is TaskChannel.EMAIL
    who.suppressed = frozenset({Channel.EMAIL})
    later = NOW + timedelta(days=32)  # 00:30 the next day in Tokyo
    written_until = later.date() + timedelta(days=cfg.horizon_days)
    assert later.astimezone(ZoneInfo("Asia/Tokyo")).date() > later.date()
    assert release.due > written_until  # not written yet: the revision must move it
    decision = review(engine.history(who), cfg, later)
    assert decision is not None and decision.plan is not None
    ahead = [t for t in decision.plan.touches if t.due > written_until]
    assert ahead and all(t.suppress_channel is not Channel.EMAIL for t in ahead)
    moved = [t for t in ahead if t.kind is TouchKind.RELEASE]
    assert moved and all(t.channel is not TaskChannel.EMAIL for t in moved)


def of_kind_plan(who: Person, kind: TouchKind) -> list[Touch]:
    assert who.plan is not None
    return [t for t in who.plan.touches if t.kind is kind]
