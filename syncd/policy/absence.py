"""Out of office: no thank-you to an auto-responder, and nothing lands while they are away."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from syncd.model import (
    Channel,
    Decision,
    History,
    Outcome,
    Plan,
    RejectionEvent,
    RuleHit,
    Touch,
    TouchKind,
)
from syncd.policy.builder import deferred
from syncd.policy.cadence import Scheduler
from syncd.policy.calendar import Calendar
from syncd.policy.config import NURTURE_KINDS, PolicyConfig
from syncd.policy.context import carried_rules
from syncd.policy.touches import NOT_CONTACT, contact_days, known_touches


def out_of_office(
    event: RejectionEvent,
    history: History,
    calendar: Calendar,
    today: date,
    generation: int,
    suppressed: frozenset[Channel],
    rules: list[RuleHit],
    cfg: PolicyConfig,
) -> Decision:
    """No acknowledgement; touches due during the absence move after the return date.

    Touches within the horizon are already tasks in the CRM and stay; the others are issued
    again in a new generation, those in the absence moved to the return date + 1 business day.
    """
    reply = event.reply
    plan = history.plan
    back_on = reply.return_date if reply else None
    made_until = today + timedelta(days=cfg.horizon_days + 1)
    future = [t for t in plan.touches if t.due > made_until] if plan else []
    away = [t for t in future if t.due <= back_on] if back_on else []
    inputs: dict[str, object] = {"return_date": back_on.isoformat() if back_on else None}
    if plan is None or back_on is None or not away:
        rules.append(RuleHit("reply.out_of_office", inputs))
        ref = plan.prospect if plan else event.prospect.ref
        return Decision(
            event.event_id, ref, Outcome.AUTO_REPLY, None, tuple(rules), suppress=suppressed
        )
    back = calendar.add_business_days(back_on, 1)
    staying = [t for t in future if t.due > back_on]
    known = known_touches(history, made_until, replay=False)
    key = plan.prospect.key
    busy: dict[str, list[date]] = {key: contact_days(known.person)}
    for record in known.account:
        if record.prospect_key != key and record.kind not in NOT_CONTACT:
            busy.setdefault(record.prospect_key, []).append(record.due)
    account_days = contact_days(known.account)
    for touch in staying:
        if touch.kind not in NOT_CONTACT:
            busy.setdefault(touch.target.key if touch.target else key, []).append(touch.due)
            account_days.append(touch.due)
    owner = event.prospect.owner.id if event.prospect.owner else None
    sched = Scheduler(calendar, cfg.cadence, history.owner_load, owner)
    for person, days in busy.items():
        sched.load(person, days)
    sched.load_account(account_days)
    moved: list[Touch] = []
    callback = plan.callback_on
    # The call-back first: nurture steps must stay before it.
    for touch in sorted(away, key=lambda t: (t.kind is not TouchKind.CALLBACK, t.due, t.seq)):
        person = touch.target.key if touch.target else key
        if touch.kind in NURTURE_KINDS:
            # A step with no gentle slot left before the call-back is dropped: catch-up touches
            # piled onto their first days back would be anything but gentle.
            last = (callback or date.max) - timedelta(days=1)
            day = sched.place(back, person, gap=True, latest=last)
            if day is None:
                continue
        else:
            day = sched.place(back, person) or calendar.on_or_after(back)
        if touch.kind is TouchKind.CALLBACK:
            callback = day
        moved.append(deferred(replace(touch, due=day), key, sched.deferred, cfg))
    inputs |= {"moved": len(moved), "dropped": len(away) - len(moved)}
    if sched.deferred:
        rules.append(sched.owner_cap_hit())
    touches = tuple(sorted((*staying, *moved), key=lambda t: (t.due, t.seq)))
    rules.append(RuleHit("reply.out_of_office", {**inputs, "back_on": back.isoformat()}))
    rules += carried_rules(touches, rules)
    return Decision(
        event.event_id,
        plan.prospect,
        Outcome.AUTO_REPLY,
        Plan(plan.prospect, generation, callback, touches),
        tuple(rules),
        suppress=suppressed,
    )
