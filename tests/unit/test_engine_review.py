"""Replies routed to review, through the engine and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from syncd.logging import configure
from syncd.model import (
    Channel,
    Intent,
    Priority,
    RejectionEvent,
    ReplyInfo,
    SourceKind,
    TouchSpec,
    WriteKind,
)
from syncd.store import schema
from tests.conftest import NOW, person, rejection
from tests.unit.world import World

KEY = "crm:contact:C0001"
REPLY_TEXT = "Hm, maybe. Who else uses this? We are looking at options but it's complicated."


def reply(
    n: int,
    at: datetime,
    *,
    intent: Intent = Intent.NOT_NOW,
    review: bool = True,
    reasons: tuple[str, ...] = ("conflicting_cues",),
    channels: frozenset[Channel] = frozenset(),
) -> RejectionEvent:
    return RejectionEvent(
        f"gm:msg:{n}",
        SourceKind.REPLY,
        at,
        person(1),
        position=at.isoformat(),
        quote=REPLY_TEXT[:40],
        reply=ReplyInfo(
            intent,
            f"<m{n}@example.com>",
            f"T{n}",
            subject="Re: a quick question",
            opt_out_channels=channels,
            evidence=("maybe", "looking at options"),
            confidence=0.41,
            review=review,
            review_reasons=reasons,
            text=REPLY_TEXT,
        ),
    )


def mine(world: World, since: int = 0) -> list[TouchSpec]:
    return [w for w in world.sink.writes[since:] if w.prospect.id == "C0001"]


def run_days(world: World, days: int, step: int = 1) -> None:
    """One cycle a day (every day), as the daemon would, with the clock moving on."""
    start = world.clock.now
    for day in range(step, days + 1, step):
        world.clock.now = start + timedelta(days=day)
        world.engine().cycle("crm")


def held(world: World) -> World:
    """A nurtured prospect whose reply went to review; the review task is written."""
    world.add(rejection(1))
    world.engine().cycle("crm")
    assert len(mine(world)) == 1  # the thank-you
    world.clock.now = NOW + timedelta(hours=3)
    world.add(reply(1, NOW + timedelta(hours=1)))
    summary = world.engine().cycle("crm")
    assert summary.decisions == Counter(review=1)
    return world


def review_task(world: World) -> TouchSpec:
    tasks = [w for w in mine(world) if w.subject.startswith("Read this reply")]
    assert len(tasks) == 1
    return tasks[0]


def audit(world: World, kind: str) -> list[dict[str, object]]:
    with world.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(schema.audit.c.data)
            .where((schema.audit.c.kind == kind) & (schema.audit.c.subject == KEY))
            .order_by(schema.audit.c.id)
        )
        return [dict(r.data) for r in rows]


def test_a_reply_routed_to_review_creates_the_task_and_holds_the_plan(world: World) -> None:
    """The owner gets one high-priority task quoting the reply with syncd's guess; for two
    months nothing else reaches the person, though the plan had touches due."""
    held(world)
    task = review_task(world)
    assert task.priority is Priority.HIGH and task.write is WriteKind.TASK
    assert task.owner_id == "005U1"
    assert REPLY_TEXT in task.body
    assert "intent: not_now, confidence 0.41" in task.body
    assert "“looking at options”" in task.body
    assert world.store.held_for_review("crm") == [KEY]
    before = len(world.sink.writes)
    run_days(world, 70, step=3)
    assert mine(world, before) == []
    assert world.store.held_for_review("crm") == [KEY]
    opened = audit(world, "review")
    assert opened[0]["event"] == "opened" and "review.opened" in opened[0]["rules"]  # type: ignore[operator]
    assert opened[0]["reasons"] == ["conflicting_cues"]


def test_completing_the_review_task_resumes_the_plan_from_that_day(world: World) -> None:
    """The rep completes the task in the CRM: the next cycle re-plans from today and the
    nurture goes on, without a second thank-you; the audit shows the hold resolved."""
    held(world)
    run_days(world, 10)
    world.sink.complete(review_task(world).key)
    before = len(world.sink.writes)
    summary = world.engine().cycle("crm")
    assert summary.holds_resolved == 1
    assert world.store.held_for_review("crm") == []
    assert world.sink.calls["task_status"] >= 1
    run_days(world, 60, step=2)
    resumed = mine(world, before)
    assert resumed, "the plan resumed"
    assert not any("Thank" in w.subject for w in resumed)
    assert all(w.due >= (NOW + timedelta(days=10)).date() for w in resumed)
    resolved = [a for a in audit(world, "review") if a["event"] == "resolved"]
    assert len(resolved) == 1 and "review.resolved" in resolved[0]["rules"]  # type: ignore[operator]


def test_an_opt_out_flag_set_in_the_crm_ends_the_plan(world: World) -> None:
    """The rep reads the reply and sets the opt-out flags: the follow-up ends for good."""
    held(world)
    world.directory.people[person(1).ref] = person(
        1, opted_out=frozenset({Channel.EMAIL, Channel.PHONE})
    )
    before = len(world.sink.writes)
    world.clock.now += timedelta(days=1)
    summary = world.engine().cycle("crm")
    assert summary.holds_resolved == 1 and summary.reviews == Counter(opted_out=1)
    run_days(world, 200, step=10)
    assert mine(world, before) == []
    assert world.store.held_for_review() == []


def test_a_guessed_opt_out_under_review_writes_no_flag_but_holds_email(world: World) -> None:
    """The safety net fired without a decisive opt-out: no CRM flag is written on a guess,
    no e-mail or anything else goes out, and the task says e-mail is held."""
    world.add(rejection(1))
    world.sink.fail("rate_limit", times=1)  # the thank-you waits in the outbox
    world.engine().cycle("crm")
    assert mine(world) == []
    world.clock.now = NOW + timedelta(hours=3)
    world.add(
        reply(
            1,
            NOW + timedelta(hours=1),
            intent=Intent.OPT_OUT,
            reasons=("opt_out_net",),
            channels=frozenset({Channel.EMAIL}),
        )
    )
    world.engine().cycle("crm")
    writes = mine(world)
    assert [w.subject.split(" ")[0] for w in writes] == ["Read"]  # the waiting thank-you too
    assert "e-mail included" in writes[0].body
    assert world.sink.suppressed == []
    assert world.store.outbox_counts("crm").get("cancelled") == 1


def clear_opt_out(world: World, channels: frozenset[Channel]) -> None:
    """A day after the held reply, a clear opt-out (not for review) from the same person."""
    world.clock.now = NOW + timedelta(days=1, hours=3)
    world.add(
        reply(
            2,
            NOW + timedelta(days=1),
            intent=Intent.OPT_OUT,
            review=False,
            reasons=(),
            channels=channels,
        )
    )


def test_a_decisive_opt_out_while_held_still_suppresses_at_once(world: World) -> None:
    """A later clear opt-out is honoured at once: the CRM flag is written, the hold ends."""
    held(world)
    clear_opt_out(world, frozenset())
    summary = world.engine().cycle("crm")
    assert summary.decisions == Counter(opted_out=1)
    assert [w.write for w in mine(world)].count(WriteKind.OPT_OUT) == 1
    assert world.store.suppressed([KEY])[KEY] >= {Channel.EMAIL, Channel.PHONE}
    assert world.store.held_for_review() == []


def test_a_new_crm_status_resolves_the_hold_and_plans_from_it(world: World) -> None:
    """A rep changed the person's status in the CRM (a new no read from it): the hold ends and
    the plan made from that no goes on."""
    held(world)
    later = NOW + timedelta(days=5)
    world.clock.now = later + timedelta(hours=1)
    status = replace(rejection(1, at=later), event_id="crm:lead:0001", source=SourceKind.LEAD)
    world.add(status)
    before = len(world.sink.writes)
    summary = world.engine().cycle("crm")
    assert summary.decisions == Counter(nurture=1)
    assert world.store.held_for_review() == []
    run_days(world, 40, step=2)
    assert mine(world, before)


def test_a_plain_reply_while_held_is_recorded_but_not_acted_on(world: World) -> None:
    """A clear "not now" after the unread reply still waits for the rep: nothing goes out."""
    held(world)
    world.clock.now = NOW + timedelta(days=2, hours=3)
    world.add(reply(2, NOW + timedelta(days=2), review=False, reasons=()))
    before = len(world.sink.writes)
    summary = world.engine().cycle("crm")
    assert summary.decisions == Counter(review=1)
    run_days(world, 40, step=4)
    assert mine(world, before) == []
    assert world.store.held_for_review() == [KEY]


def test_the_reply_never_reaches_a_log_line(world: World) -> None:
    """The reply's words and the prospect's address go to the CRM task only: every log line
    of the cycles that open and resolve the hold carries ids."""
    out = io.StringIO()
    configure(fmt="json", stream=out)
    held(world)
    world.sink.complete(review_task(world).key)
    world.clock.now += timedelta(days=1)
    world.engine().cycle("crm")
    logged = out.getvalue()
    assert '"event": "review.resolved"' in logged and KEY in logged
    for private in (REPLY_TEXT, "looking at options", "p1@example.com", "Person 1"):
        assert private not in logged


def test_an_email_opt_out_while_held_is_written_at_once_and_the_hold_stays(world: World) -> None:
    """A clear "no more e-mails" after the unread reply: the e-mail flag goes to the CRM in the
    same cycle, e-mail is suppressed for good, and the person stays held for the rep."""
    held(world)
    clear_opt_out(world, frozenset({Channel.EMAIL}))
    before = len(world.sink.writes)
    summary = world.engine().cycle("crm")
    assert summary.decisions == Counter(review=1)
    (flag,) = mine(world, before)
    assert flag.write is WriteKind.OPT_OUT and flag.opt_out_channels == {Channel.EMAIL}
    assert world.store.suppressed([KEY])[KEY] == {Channel.EMAIL}
    assert world.store.held_for_review() == [KEY]
    run_days(world, 30, step=3)
    assert mine(world, before + 1) == []


def test_open_holds_are_checked_in_batches_not_one_call_per_person(world: World) -> None:
    """Thirty people held: one cycle asks the CRM about their tasks in one call and looks
    them up in one people and one open-work call, whatever their number."""
    at = NOW + timedelta(hours=1)
    for n in range(30):
        event = replace(reply(1, at), event_id=f"gm:msg:{n}", prospect=person(n))
        world.add(event)
    world.clock.now = NOW + timedelta(hours=3)
    world.engine().cycle("crm")
    assert len(world.store.held_for_review()) == 30
    world.sink.calls.clear()
    world.directory.calls.clear()
    world.clock.now += timedelta(hours=1)
    world.engine().cycle("crm")
    assert world.sink.calls["task_status"] == 1
    assert world.directory.calls["prospects"] <= 3 and world.directory.calls["active"] <= 3


def test_holds_the_crm_resolved_are_not_looked_up_again_to_resolve_them(world: World) -> None:
    """The people and open-work look-ups the hold check made serve the resolution too: a
    cycle resolving thirty holds asks the CRM about them no more than a quiet one does."""
    at = NOW + timedelta(hours=1)
    for n in range(30):
        event = replace(reply(1, at), event_id=f"gm:msg:{n}", prospect=person(n))
        world.add(event)
    world.clock.now = NOW + timedelta(hours=3)
    world.engine().cycle("crm")
    world.directory.calls.clear()
    world.clock.now += timedelta(hours=1)
    world.engine().cycle("crm")
    quiet = Counter(world.directory.calls)
    for n in range(30):
        world.directory.people[person(n).ref] = person(
            n, opted_out=frozenset({Channel.EMAIL, Channel.PHONE})
        )
    world.directory.calls.clear()
    world.clock.now += timedelta(hours=1)
    summary = world.engine().cycle("crm")
    assert summary.holds_resolved == 30
    assert world.directory.calls["prospects"] == quiet["prospects"]
    assert world.directory.calls["active"] == quiet["active"]
