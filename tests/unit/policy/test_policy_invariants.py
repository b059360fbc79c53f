"""POLICY.md's invariants, each a property over generated prospects, events and histories."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.model import (
    ALL_CHANNELS,
    Account,
    Channel,
    Decision,
    History,
    Intent,
    Outcome,
    Priority,
    Prospect,
    RejectionEvent,
    ReplyInfo,
    ReviewHold,
    SourceKind,
    TaskChannel,
    Touch,
    TouchKind,
    WriteKind,
    touch_key,
)
from syncd.policy import PolicyConfig, decide, recheck, review
from tests.unit.policy.factories import NOT_A_TOUCH, NOW, Engine, contact_touches
from tests.unit.policy.strategies import (
    NO_INTENTS,
    ZONES_WITH_TYPO,
    configs,
    events,
    histories,
    prospects,
    replies,
)

PROPERTY = settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEQUENCE = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHANNEL_OF_TASK = {
    TaskChannel.EMAIL: Channel.EMAIL,
    TaskChannel.CALL: Channel.PHONE,
    TaskChannel.LINKEDIN: Channel.LINKEDIN,
}
COUNTRY_CODES = {"Germany": "DE"}


@st.composite
def cases(draw: st.DrawFn) -> tuple[RejectionEvent, History, PolicyConfig]:
    who = draw(prospects(zones=ZONES_WITH_TYPO))
    return draw(events(who)), draw(histories(who)), draw(configs())


def fails_on_known_data(account: Account | None, cfg: PolicyConfig) -> bool:
    """An oracle written from POLICY.md, independent of the policy's own fit code."""
    if account is None:
        return False
    icp = cfg.icp
    n, revenue = account.employees, account.annual_revenue
    if n is not None and (
        (icp.min_employees is not None and n < icp.min_employees)
        or (icp.max_employees is not None and n > icp.max_employees)
    ):
        return True
    if revenue is not None and icp.min_revenue is not None and revenue < icp.min_revenue:
        return True
    if account.industry and account.industry in icp.excluded_industries:
        return True
    if account.country and icp.countries:
        code = COUNTRY_CODES.get(account.country, account.country)
        return code not in {COUNTRY_CODES.get(c, c) for c in icp.countries}
    return False


def has_unknowns(account: Account | None, cfg: PolicyConfig) -> bool:
    icp = cfg.icp
    if account is None:
        return True
    checks = [
        (icp.min_employees is not None or icp.max_employees is not None, account.employees),
        (icp.min_revenue is not None, account.annual_revenue),
        (bool(icp.countries), account.country),
        (bool(icp.excluded_industries), account.industry),
    ]
    return any(used and value is None for used, value in checks)


def suppressed_before(event: RejectionEvent, history: History) -> frozenset[Channel]:
    asked: frozenset[Channel] = frozenset()
    reply = event.reply
    if reply is not None and reply.intent is Intent.OPT_OUT and not reply.review:
        asked = event.reply.opt_out_channels or ALL_CHANNELS
    return history.suppressed | event.prospect.opted_out | asked


def owner_today(event: RejectionEvent) -> date:
    tz = event.prospect.owner.timezone if event.prospect.owner else "UTC"
    try:
        return NOW.astimezone(ZoneInfo(tz)).date()
    except KeyError:  # an unknown zone name: the configured default, UTC
        return NOW.date()


def assert_business_days(plan_touches: tuple[Touch, ...], country: str | None) -> None:
    code = COUNTRY_CODES.get(country or "", country)
    for touch in plan_touches:
        assert touch.due.weekday() < 5, touch
        if code:
            assert touch.due not in holidays.country_holidays(code, years=touch.due.year), touch


def assert_audited(decision: Decision) -> None:
    ids = [hit.rule_id for hit in decision.rules]
    assert ids, "a decision without rules"
    for hit in decision.rules:
        assert hit.rule_id.replace("_", "").replace(".", "").isalnum(), hit.rule_id
        assert hit.inputs, f"{hit.rule_id} records no inputs"
        json.dumps(hit.inputs)  # the audit row stores them
    for touch in decision.plan.touches if decision.plan else ():
        assert touch.rule_id in ids, f"{touch.rule_id} fired but is not in the decision's rules"


@PROPERTY
@given(cases())
def test_no_touch_is_planned_on_a_suppressed_channel(
    case: tuple[RejectionEvent, History, PolicyConfig],
) -> None:
    """Every touch names its channel, and none is on a channel the person (or target) left."""
    event, history, cfg = case
    decision = decide(event, history, cfg, NOW)
    blocked = suppressed_before(event, history)
    assert blocked <= decision.suppress
    colleagues = {c.ref: c for c in history.colleagues}
    for touch in decision.plan.touches if decision.plan else ():
        if touch.write is WriteKind.OPT_OUT:
            assert touch.opt_out_channels <= decision.suppress
            continue
        if touch.channel in CHANNEL_OF_TASK:
            assert touch.suppress_channel is CHANNEL_OF_TASK[touch.channel], touch
        if touch.write is WriteKind.DRAFT:
            assert touch.suppress_channel is Channel.EMAIL
        assert touch.suppress_channel not in blocked, touch
        if touch.target is not None and touch.target in colleagues:
            assert touch.suppress_channel not in colleagues[touch.target].opted_out


@PROPERTY
@given(cases(), st.sampled_from(list(Channel)))
def test_an_opt_out_arriving_before_the_write_cancels_the_touch(
    case: tuple[RejectionEvent, History, PolicyConfig], late: Channel
) -> None:
    """Suppression is re-checked at write time: an opt-out after planning stops the touch."""
    event, history, cfg = case
    decision = decide(event, history, cfg, NOW)
    later = History(
        prospect=event.prospect,
        suppressed=history.suppressed | {late},
        colleagues=history.colleagues,
    )
    for touch in decision.plan.touches if decision.plan else ():
        verdict = recheck(touch, later, cfg, NOW)
        if touch.write is WriteKind.OPT_OUT:
            assert verdict is None  # the opt-out itself is always written
        elif touch.suppress_channel is late:
            assert verdict is not None and verdict.startswith("suppressed")


@PROPERTY
@given(cases())
def test_no_touch_is_scheduled_for_a_prospect_failing_the_profile(
    case: tuple[RejectionEvent, History, PolicyConfig],
) -> None:
    """Failing the ICP on known data leaves nothing but the opt-out write (or, for a reply
    nobody could read, the owner's review task: it may be an opt-out), and drops the plan."""
    event, history, cfg = case
    if not fails_on_known_data(event.prospect.account, cfg):
        return
    decision = decide(event, history, cfg, NOW)
    assert contact_touches(decision.plan) == []
    assert all(
        t.write is WriteKind.OPT_OUT or t.kind is TouchKind.REVIEW
        for t in (decision.plan.touches if decision.plan else ())
    )
    assert decision.outcome in (Outcome.NOT_A_FIT, Outcome.OPTED_OUT, Outcome.REVIEW)
    assert decision.cancel_plan


@PROPERTY
@given(cases())
def test_every_fitting_rejected_prospect_gets_one_plan_with_a_future_call_back(
    case: tuple[RejectionEvent, History, PolicyConfig],
) -> None:
    """A fitting, reachable, inactive prospect saying no always gets exactly one call-back."""
    event, history, cfg = case
    reply = event.reply
    is_a_no = reply is None or (
        not reply.auto_reply and not reply.review and reply.intent in (*NO_INTENTS, Intent.OPT_OUT)
    )
    blocked = suppressed_before(event, history)
    account = event.prospect.account
    fits = not fails_on_known_data(account, cfg) and (
        cfg.icp.unknown_is_fit or not has_unknowns(account, cfg)
    )
    if not (
        is_a_no and fits and not history.active and not {Channel.EMAIL, Channel.PHONE} <= blocked
    ):
        return
    decision = decide(event, history, cfg, NOW)
    assert decision.outcome is Outcome.NURTURE and not decision.cancel_plan
    plan = decision.plan
    assert plan is not None and plan.callback_on is not None
    assert plan.callback_on > owner_today(event)
    callbacks = [t for t in plan.touches if t.kind is TouchKind.CALLBACK]
    assert len(callbacks) == 1 and callbacks[0].due == plan.callback_on
    assert plan.generation == len(history.rejections) + 1


def _windows_hold(days: list[date], new: set[date], cap: int, window: int) -> bool:
    """Every `window`-day span holding one of the new days has at most `cap` touches."""
    ordered = sorted(days)
    for start_day in {d - timedelta(days=k) for d in new for k in range(window)}:
        end = start_day + timedelta(days=window - 1)
        inside = [d for d in ordered if start_day <= d <= end]
        if any(d in new for d in inside) and len(inside) > cap:
            return False
    return True


@PROPERTY
@given(cases())
def test_frequency_caps_hold_for_every_person_and_the_account(
    case: tuple[RejectionEvent, History, PolicyConfig],
) -> None:
    """No window that receives a new touch exceeds the per-person or per-account cap."""
    event, history, cfg = case
    decision = decide(event, history, cfg, NOW)
    new = contact_touches(decision.plan)
    cad = cfg.cadence
    me = event.prospect.ref.key
    person_days: dict[str, list[date]] = defaultdict(list)
    person_days[me] = [r.due for r in history.touches]
    for r in history.account_touches:
        if r.prospect_key != me:
            person_days[r.prospect_key].append(r.due)
    account_days = [r.due for r in history.account_touches]
    new_by_person: dict[str, set[date]] = defaultdict(set)
    for touch in new:
        who = touch.target.key if touch.target else me
        person_days[who].append(touch.due)
        new_by_person[who].add(touch.due)
        account_days.append(touch.due)
    for who, days in new_by_person.items():
        assert _windows_hold(person_days[who], days, cad.max_per_person, cad.person_window_days)
        assert len(days) == sum(1 for t in new if (t.target.key if t.target else me) == who)
    assert _windows_hold(
        account_days, {t.due for t in new}, cad.max_per_account, cad.account_window_days
    )


@SEQUENCE
@given(st.data())
def test_caps_hold_over_any_window_as_plans_come_and_go(data: st.DataObject) -> None:
    """Several people at one account saying no over weeks: caps hold on everything live."""
    cfg = data.draw(configs())
    account = data.draw(prospects()).account
    people = [data.draw(prospects(n, account=account)) for n in range(1, 4)]
    engine = Engine(cfg.horizon_days)
    for p in people:
        engine.add(p)
    now = NOW
    for step in range(data.draw(st.integers(2, 6))):
        now += timedelta(days=data.draw(st.integers(0, 20)), hours=data.draw(st.integers(0, 23)))
        who = engine.people[data.draw(st.sampled_from(people)).ref.key]
        event = data.draw(events(who.prospect, n=step, at=now - timedelta(minutes=5)))
        engine.materialise(now.date())
        decision = decide(event, engine.history(who), cfg, now)
        engine.apply(event, who, decision)
        engine.materialise(now.date())
    live = engine.live()
    contact = [r for r in live if r.kind not in NOT_A_TOUCH]
    by_person: dict[str, list[date]] = defaultdict(list)
    for r in contact:
        by_person[r.prospect_key].append(r.due)
    cad = cfg.cadence
    for days in by_person.values():
        assert _windows_hold(days, set(days), cad.max_per_person, cad.person_window_days)
    all_days = [r.due for r in contact]
    assert _windows_hold(all_days, set(all_days), cad.max_per_account, cad.account_window_days)


@PROPERTY
@given(cases())
def test_every_touch_falls_on_a_business_day_of_the_owner(
    case: tuple[RejectionEvent, History, PolicyConfig],
) -> None:
    """No touch is due on a weekend or on a public holiday of the account's country."""
    event, history, cfg = case
    decision = decide(event, history, cfg, NOW)
    if decision.plan is not None:
        account = event.prospect.account
        assert_business_days(decision.plan.touches, account.country if account else None)


@PROPERTY
@given(cases())
def test_deciding_the_same_input_twice_gives_the_same_decision(
    case: tuple[RejectionEvent, History, PolicyConfig],
) -> None:
    """The policy is a pure function: same input, same plan, same audit trail."""
    event, history, cfg = case
    first, second = decide(event, history, cfg, NOW), decide(event, history, cfg, NOW)
    assert first == second
    assert [(h.rule_id, h.inputs) for h in first.rules] == [
        (h.rule_id, h.inputs) for h in second.rules
    ]


def _decided_and_stored(
    event: RejectionEvent, history: History, cfg: PolicyConfig
) -> tuple[Engine, Decision]:
    engine = Engine(cfg.horizon_days)
    who = engine.add(event.prospect)
    who.rejections = list(history.rejections)
    who.suppressed = history.suppressed
    first = decide(event, engine.history(who), cfg, NOW)
    engine.apply(event, who, first)
    engine.materialise(NOW.date())
    return engine, first


def _keys(decision: Decision) -> set[str]:
    if decision.plan is None:
        return set()
    plan = decision.plan
    return {touch_key("crm", plan.prospect.key, plan.plan_id, t.seq) for t in plan.touches}


@PROPERTY
@given(cases())
def test_re_running_a_cycle_on_the_same_input_writes_nothing_new(
    case: tuple[RejectionEvent, History, PolicyConfig],
) -> None:
    """An event decided again after its plan was stored yields the very same plan and keys."""
    event, history, cfg = case
    engine, first = _decided_and_stored(event, history, cfg)
    who = engine.people[event.prospect.ref.key]
    again = decide(event, engine.history(who), cfg, NOW)
    assert again.plan == first.plan
    assert _keys(again) == _keys(first)


@PROPERTY
@given(cases(), st.integers(1, 72))
def test_an_event_read_again_later_does_not_start_a_new_generation(
    case: tuple[RejectionEvent, History, PolicyConfig], hours_later: int
) -> None:
    """Re-reading an event hours later keeps its plan's generation: no parallel plan."""
    event, history, cfg = case
    engine, first = _decided_and_stored(event, history, cfg)
    who = engine.people[event.prospect.ref.key]
    again = decide(event, engine.history(who), cfg, NOW + timedelta(hours=hours_later))
    if first.plan is not None and again.plan is not None:
        assert again.plan.plan_id == first.plan.plan_id


@PROPERTY
@given(cases())
def test_every_decision_records_its_rules_and_their_inputs(
    case: tuple[RejectionEvent, History, PolicyConfig],
) -> None:
    """Each decision lists the rules that fired with their inputs, incl. every touch's rule."""
    event, history, cfg = case
    assert_audited(decide(event, history, cfg, NOW))


@SEQUENCE
@given(cases(), st.integers(1, 400), st.sampled_from([None, *Channel]))
def test_reviewing_a_plan_later_keeps_every_invariant(
    case: tuple[RejectionEvent, History, PolicyConfig], days_later: int, late: Channel | None
) -> None:
    """`review` months later (maybe after a new opt-out) never breaks suppression or calendar."""
    event, _, cfg = case
    engine = Engine(cfg.horizon_days)
    who = engine.add(event.prospect)
    decision = decide(event, engine.history(who), cfg, NOW)
    engine.apply(event, who, decision)
    engine.materialise(NOW.date())
    if late is not None:
        who.suppressed |= {late}
    later = NOW + timedelta(days=days_later)
    revised = review(engine.history(who), cfg, later)
    if revised is None:
        return
    assert_audited(revised)
    blocked = who.suppressed | event.prospect.opted_out
    made_until = later.date() + timedelta(days=cfg.horizon_days + 1)
    plan = revised.plan
    if plan is None:
        assert revised.cancel_plan
        return
    for touch in plan.touches:
        if touch.due > made_until:
            assert touch.suppress_channel not in blocked
    account = event.prospect.account
    assert_business_days(plan.touches, account.country if account else None)
    if revised.outcome is Outcome.NURTURE and who.plan is not None:
        assert plan.callback_on is not None and plan.callback_on >= later.date()
        assert plan.generation == who.plan.generation  # only a new no starts a generation
        old_seqs = {t.seq for t in who.plan.touches}
        fresh = [t for t in plan.touches if t.due > made_until]
        assert not {t.seq for t in fresh} & old_seqs  # the store never reuses a seq


# --- the review route: a reply nobody can read with confidence holds the person ----------------


def _held_case_events(data: st.DataObject, who: Prospect, steps: int) -> list[RejectionEvent]:
    """A run of nos for one person, review replies among them (some replies forced so)."""
    out = []
    at = NOW
    for step in range(steps):
        at += timedelta(days=data.draw(st.integers(0, 25)), hours=data.draw(st.integers(1, 23)))
        event = data.draw(events(who, n=step, at=at - timedelta(minutes=5)))
        if step == 0 or data.draw(st.booleans()):
            reply = data.draw(replies())
            event = replace(
                event,
                source=SourceKind.REPLY,
                reply=replace(reply, review=True, review_reasons=("conflicting_cues",)),
            )
        out.append(event)
    return out


@SEQUENCE
@given(st.data())
def test_nothing_but_the_review_task_is_made_while_a_review_is_open(data: st.DataObject) -> None:
    """Over weeks of events, cycles and daily reviews, a person with an open review gets no
    touch but the review task (and opt-out writes) until a rep resolves it."""
    cfg = data.draw(configs())
    who_prospect = data.draw(prospects())
    engine = Engine(cfg.horizon_days)
    who = engine.add(who_prospect)
    for event in _held_case_events(data, who_prospect, data.draw(st.integers(1, 5))):
        now = event.occurred_at + timedelta(minutes=5)
        engine.materialise(now.date(), cfg, now)
        engine.apply(event, who, decide(event, engine.history(who), cfg, now))
        engine.materialise(now.date(), cfg, now)
        for day in range(1, data.draw(st.integers(1, 30)), 3):
            later = now + timedelta(days=day)
            revised = review(engine.history(who), cfg, later)
            if revised is not None:
                engine.apply(None, who, revised)
            engine.materialise(later.date(), cfg, later)
        assert all(
            t.kind is TouchKind.REVIEW or t.write is WriteKind.OPT_OUT for t in who.made_while_held
        ), who.made_while_held
        if who.review is not None and data.draw(st.booleans()):  # the rep completes the task
            later = now + timedelta(days=31)
            resolved = replace(engine.history(who), review=replace(who.review, resolution="x"))
            decision = review(resolved, cfg, later)
            assert decision is not None and decision.resolved == "x"
            engine.apply(None, who, decision)
            assert who.review is None


@PROPERTY
@given(cases())
def test_a_reply_under_review_is_never_acted_on_as_its_guess(
    case: tuple[RejectionEvent, History, PolicyConfig],
) -> None:
    """A reply routed to review writes no opt-out flag, suppresses nothing new, alerts nobody
    as re-engaged and moves no plan: one high-priority task asks the owner to decide."""
    event, history, cfg = case
    if event.reply is None or not event.reply.review:
        return
    decision = decide(event, history, cfg, NOW)
    assert decision.suppress == history.suppressed | event.prospect.opted_out
    if decision.outcome is not Outcome.REVIEW:  # already fully opted out: nothing to hold
        assert decision.outcome is Outcome.OPTED_OUT and decision.plan is None
        return
    assert decision.plan is not None and decision.hold is not None
    (task,) = decision.plan.touches
    assert task.kind is TouchKind.REVIEW and task.priority is Priority.HIGH
    assert task.write is WriteKind.TASK and task.suppress_channel is None
    assert decision.plan.callback_on is None and decision.cancel_plan
    assert decision.hold.email_held == ("opt_out_net" in event.reply.review_reasons)
    assert recheck(task, replace(history, review=decision.hold), cfg, NOW) is None


@PROPERTY
@given(cases(), st.sampled_from([None, *Channel]))
def test_a_decisive_opt_out_suppresses_at_once_even_while_held(
    case: tuple[RejectionEvent, History, PolicyConfig], channel: Channel | None
) -> None:
    """An unmistakable opt-out is honoured the moment it arrives, whether or not a review
    holds the person: its channels are suppressed and the CRM flag write is planned."""
    event, history, cfg = case
    asked = frozenset({channel}) if channel else frozenset()
    reply = ReplyInfo(Intent.OPT_OUT, "<m9@example.com>", "T9", opt_out_channels=asked)
    opt_out = replace(event, source=SourceKind.REPLY, reply=reply, event_id="ev:opt-out")
    hold = ReviewHold("gm:msg:earlier", NOW.date() - timedelta(days=2), ("no_cue",))
    for held in (history, replace(history, review=hold)):
        decision = decide(opt_out, held, cfg, NOW)
        wanted = asked or ALL_CHANNELS
        assert wanted <= decision.suppress
        flagged = event.prospect.opted_out
        writes = [
            t
            for t in (decision.plan.touches if decision.plan else ())
            if t.kind is TouchKind.OPT_OUT
        ]
        if wanted - flagged:
            assert [t.opt_out_channels for t in writes] == [wanted - flagged]
        if held.review is not None and decision.plan is not None:
            assert all(
                recheck(t, replace(held, review=hold), cfg, NOW) is None
                for t in decision.plan.touches
                if t.kind in (TouchKind.OPT_OUT, TouchKind.REVIEW)
            )
            if decision.resolved is None:  # still held: nothing but the flag goes out
                assert all(
                    t.kind in (TouchKind.OPT_OUT, TouchKind.REVIEW) for t in decision.plan.touches
                )
