"""The per-owner daily cap: a first backfill is spread over weeks, highest worth first."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.engine import first_things_first
from syncd.model import Channel, History, Owner, RejectionEvent, TouchKind, WriteKind
from syncd.ownerload import DEFERRED_NOTE, OwnerLoad
from syncd.policy import PolicyConfig, decide
from tests.unit.policy.factories import NOW, account, contact_touches, lost_deal, person
from tests.unit.policy.strategies import configs, events, histories, prospects
from tests.unit.policy.test_policy_invariants import assert_business_days

REP_WORK = (WriteKind.TASK, WriteKind.DRAFT)
IMMEDIATE = (TouchKind.URGENT, TouchKind.REVIEW)
OWNERS = ("U1", "U2", "U3")


def backfill(n: int, cap: int, seed: int = 7) -> list[RejectionEvent]:
    """`n` old losses spread over the last two years, amounts from 1k to 250k."""
    rng = random.Random(seed)
    events = []
    for i in range(1, n + 1):
        who = replace(
            person(i, acct=account(i)), owner=Owner(OWNERS[i % len(OWNERS)], "Europe/Berlin")
        )
        ago = timedelta(days=rng.randint(30, 700))
        amount = float(rng.randint(1, 250) * 1000)
        events.append(lost_deal(i, who=who, at=NOW - ago, amount=amount))
    return events


def plan_all(events: list[RejectionEvent], cfg: PolicyConfig, load: OwnerLoad) -> dict[str, list]:
    """Decide every loss in the engine's order with one shared load; touches by prospect."""
    planned: dict[str, list] = {}
    for event in first_things_first(events):
        decision = decide(event, History(owner_load=load), cfg, NOW)
        planned[event.prospect.ref.key] = list(decision.plan.touches if decision.plan else ())
    return planned


def test_a_backfill_of_5000_losses_never_gives_an_owner_more_than_25_tasks_a_day() -> None:
    """5,000 old losses, 3 reps, cap 25: no day over 25, spread over weeks, best deals first."""
    cfg = PolicyConfig(cadence={"max_tasks_per_owner_per_day": 25})
    events = backfill(5000, 25)
    load = OwnerLoad(25)
    planned = plan_all(events, cfg, load)

    per_day: Counter[tuple[str, date]] = Counter()
    for event in events:
        touches = [t for t in planned[event.prospect.ref.key] if t.write in REP_WORK]
        assert touches, "every fitting loss keeps a plan"
        owner = event.prospect.owner.id if event.prospect.owner else ""
        for touch in touches:
            per_day[(owner, touch.due)] += 1
    assert max(per_day.values()) == 25
    for owner in OWNERS:
        days = sorted(d for (o, d) in per_day if o == owner)
        assert (days[-1] - days[0]).days > 21, "spread over weeks, not dumped on one morning"
        assert all(d.weekday() < 5 for d in days)

    # Highest worth first: every old loss wants its call-back now; the richest get the first
    # days. Per owner, the call-back waits grow quarter by quarter down the worth ranking.
    by_owner: dict[str, list[RejectionEvent]] = defaultdict(list)
    for event in events:
        by_owner[event.prospect.owner.id if event.prospect.owner else ""].append(event)
    for rows in by_owner.values():
        rows.sort(key=lambda e: -(e.amount or 0.0))
        quarter = len(rows) // 4
        waits = [callback_wait(rows[i * quarter : (i + 1) * quarter], planned) for i in range(4)]
        assert waits == sorted(waits) and waits[0] < waits[3] / 1.5, waits


def callback_of(event: RejectionEvent, planned: dict[str, list]) -> date:
    return next(t.due for t in planned[event.prospect.ref.key] if t.kind is TouchKind.CALLBACK)


def callback_wait(events: list[RejectionEvent], planned: dict[str, list]) -> float:
    return sum((callback_of(e, planned) - NOW.date()).days for e in events) / len(events)


def test_no_thank_you_for_old_losses_but_the_call_back_stays() -> None:
    """A loss older than `ack_max_age_days` gets no acknowledgement; it still gets a call-back."""
    cfg = PolicyConfig(ack_max_age_days=14)
    decision = decide(lost_deal(1, at=NOW - timedelta(days=90)), History(), cfg, NOW)
    assert decision.plan is not None
    kinds = {t.kind.value for t in decision.plan.touches}
    assert "thank_you" not in kinds
    assert "callback" in kinds


def test_a_task_moved_by_the_cap_tells_the_rep_why() -> None:
    """The brief of a task the daily cap moved says it was scheduled later on purpose."""
    cfg = PolicyConfig(cadence={"max_tasks_per_owner_per_day": 1})
    load = OwnerLoad(1)
    first = decide(lost_deal(1, who=person(1, acct=account(1))), History(owner_load=load), cfg, NOW)
    second = decide(
        lost_deal(2, who=person(2, acct=account(2))), History(owner_load=load), cfg, NOW
    )
    assert first.plan is not None and second.plan is not None
    firsts = {t.due for t in first.plan.touches if t.write in REP_WORK}
    moved = [t for t in second.plan.touches if t.write in REP_WORK and DEFERRED_NOTE in t.brief]
    assert moved, "the second prospect's tasks found days taken"
    assert all(t.due not in firsts for t in second.plan.touches if t.write in REP_WORK)
    assert any(h.rule_id == "cadence.cap.owner" for h in second.rules)


def test_a_fully_opted_out_persons_colleague_tasks_respect_the_daily_cap() -> None:
    """Entry points for the colleagues of a full opt-out count against the rep's day too.

    The property test's shrunk case: two colleague tasks of one plan on the same day, cap 1.
    """
    big = account(employees=2000)
    colleagues = (
        person(2, acct=big, title="CFO", department="Finance"),
        person(3, acct=big, title="Head of IT", department="IT"),
    )
    event = lost_deal(who=person(1, acct=big, opted_out=frozenset({Channel.EMAIL, Channel.PHONE})))
    cfg = PolicyConfig(cadence={"max_tasks_per_owner_per_day": 1, "max_per_account": 2})
    load = OwnerLoad(1)
    decision = decide(event, History(owner_load=load, colleagues=colleagues), cfg, NOW)
    assert decision.plan is not None
    first, second = decision.plan.touches
    assert first.kind is second.kind is TouchKind.ENTRY_POINT
    assert first.due < second.due and DEFERRED_NOTE in second.brief
    assert [load.count("U1", t.due) for t in (first, second)] == [1, 1], "booked for later plans"
    assert "cadence.cap.owner" in [h.rule_id for h in decision.rules]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1, 4), st.integers(2, 12))
def test_the_daily_cap_holds_for_every_owner_every_day_with_the_other_invariants(
    data: st.DataObject, cap: int, count: int
) -> None:
    """Many people, two reps, a small cap: no rep's day over it, on business days, caps kept."""
    base = data.draw(configs())
    cfg = base.model_copy(
        update={"cadence": base.cadence.model_copy(update={"max_tasks_per_owner_per_day": cap})}
    )
    load = OwnerLoad(cap)
    per_day: Counter[tuple[str, date]] = Counter()
    seen: dict[tuple[str, date], list[str]] = defaultdict(list)
    for n in range(1, count + 1):
        who = data.draw(prospects(n))
        who = replace(who, owner=replace(who.owner or Owner("U1"), id=f"U{n % 2}"))
        event = data.draw(events(who, n))
        history = replace(data.draw(histories(who)), owner_load=load)
        decision = decide(event, history, cfg, NOW)
        touches = decision.plan.touches if decision.plan else ()
        # Urgent alerts (an interested reply) and review tasks (a reply nobody could read) are
        # due at once and never deferred: not the cap's to move.
        work = [t for t in touches if t.write in REP_WORK and t.kind not in IMMEDIATE]
        for touch in work:
            per_day[(f"U{n % 2}", touch.due)] += 1
            seen[(f"U{n % 2}", touch.due)].append(f"{n}:{touch.kind.value}:{touch.rule_id}")
        assert_business_days(touches, who.account.country if who.account else None)
        days_of = [t.due for t in contact_touches(decision.plan) if t.target is None]
        assert len(days_of) == len(set(days_of)), "one touch a day per person"
    assert all(n <= cap for n in per_day.values()), {k: v for k, v in seen.items() if len(v) > cap}
