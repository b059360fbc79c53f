"""Re-engagement outcomes through the engine and the store, and the daily cap across pages."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from syncd.attribution import attribute
from syncd.model import (
    Intent,
    Priority,
    RejectionEvent,
    ReplyInfo,
    SourceKind,
    TouchKind,
    WriteKind,
)
from syncd.policy.config import PolicyConfig
from syncd.store import schema as t
from tests.conftest import NOW, person, rejection
from tests.unit.world import World


def _interested(n: int, days_later: int) -> RejectionEvent:
    when = NOW + timedelta(days=days_later)
    return RejectionEvent(
        f"gm:msg:{n}",
        SourceKind.REPLY,
        when,
        person(n),
        position=when.isoformat(),
        reply=ReplyInfo(Intent.INTERESTED, f"<m{n}@x>", f"t{n}"),
    )


def test_an_interested_reply_from_a_nurtured_prospect_is_an_outcome_once(world: World) -> None:
    """Weeks into the nurture they write back interested: the owner gets the urgent task, the
    nurture's remaining touches are cancelled, and one outcome names the touch before it."""
    world.add(rejection(1))
    engine = world.engine()
    engine.cycle("crm")  # the thank-you is made
    world.clock.now = NOW + timedelta(days=41)
    world.add(_interested(1, 40))
    engine = world.engine()  # the lease, renewed as the daemon does
    summary = engine.cycle("crm")
    assert sum(summary.reengaged.values()) == 1
    urgent = [w for w in world.sink.writes if w.priority is Priority.HIGH]
    assert urgent, "the owner is told at once"
    (row,) = world.store.reengagements(NOW, NOW + timedelta(days=60))
    assert row["kind"] == "interested_reply" and row["source_ref"] == "gm:msg:1"
    assert row["attribution"]["last_touch"]["kind"] == TouchKind.THANK_YOU.value
    assert row["loss_reason"] == "not_now"
    with world.store.engine.connect() as conn:
        left = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.touches)
            .join(t.plans, t.plans.c.id == t.touches.c.plan)
            .join(t.prospects, t.prospects.c.id == t.plans.c.prospect)
            .where((t.prospects.c.key == "crm:contact:C0001") & (t.touches.c.state == "planned"))
        ).scalar()
    assert left == 0, "no nurture touch stays planned"
    world.clock.now = NOW + timedelta(days=42)
    again = world.engine().cycle("crm")
    assert sum(again.reengaged.values()) == 0
    assert len(world.store.reengagements(NOW, NOW + timedelta(days=60))) == 1


def test_attribution_names_the_last_touch_and_every_touch_in_the_window() -> None:
    """Last touch: the latest made by the re-engagement; any touch: those within the window;
    touches due after it do not count."""
    from syncd.model import History, Plan
    from syncd.policy import decide

    cfg = PolicyConfig(outcomes={"attribution_window_days": 60})
    loss = dataclasses.replace(rejection(1), competitor="Acme", amount=3000.0)
    plan = decide(loss, History(), cfg, NOW).plan
    assert isinstance(plan, Plan)
    touches = sorted(plan.touches, key=lambda x: x.due)
    back = touches[2].due
    r = attribute(
        prospect_key="crm:contact:C0001",
        source_ref="O2",
        kind="new_opportunity",
        occurred_at=NOW.replace(year=back.year, month=back.month, day=back.day),
        made=touches,
        rejections=(loss,),
        owner_id="005U1",
        amount=9000.0,
        cfg=cfg,
    )
    made_by_then = [x for x in touches if x.due <= back]
    assert r.attribution["last_touch"]["due"] == made_by_then[-1].due.isoformat()
    window = [x for x in made_by_then if (back - x.due).days <= 60]
    assert [a["due"] for a in r.attribution["any_touch"]] == [x.due.isoformat() for x in window]
    assert r.attribution["touches_made"] == len(made_by_then)
    assert (r.competitor, r.worth_tier, r.amount) == ("Acme", "<5000", 9000.0)


def test_the_daily_cap_counts_what_earlier_cycles_planned(world: World) -> None:
    """Two cycles, one rep, a cap of 2: the second cycle's tasks go around the first's."""
    policy = PolicyConfig(cadence={"max_tasks_per_owner_per_day": 2})
    world.add(*(rejection(n) for n in range(3)))
    engine = world.engine(policy=policy)
    engine.cycle("crm")
    world.add(*(rejection(n) for n in range(10, 14)))
    world.clock.now = NOW + timedelta(hours=1)
    engine.cycle("crm")
    with world.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.touches.c.owner_id, t.touches.c.due, t.touches.c.touch).where(
                t.touches.c.state != "cancelled"
            )
        ).all()
    per_day = Counter(
        (r.owner_id, r.due) for r in rows if r.touch["write"] in (WriteKind.TASK, WriteKind.DRAFT)
    )
    assert len({owner for owner, _ in per_day}) == 1
    assert max(per_day.values()) == 2
