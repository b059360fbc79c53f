"""A full opt-out closes the person, not the account: colleagues may still be suggested.

When someone opted out of every direct channel (`[policy.suppress]`), `decide` ends their
follow-up. The account may still fit, so the owner is pointed at the colleagues the
entry-point rules would suggest anyway, each on a channel neither the colleague nor the
opted-out person has closed, within the account's caps and the owner's daily cap.
"""

from __future__ import annotations

from datetime import date, timedelta

from syncd.model import (
    Channel,
    History,
    Priority,
    Prospect,
    RejectionEvent,
    RuleHit,
    Touch,
    TouchKind,
    WriteKind,
)
from syncd.policy import brief as briefs
from syncd.policy.builder import deferred
from syncd.policy.cadence import Scheduler
from syncd.policy.calendar import Calendar
from syncd.policy.config import PolicyConfig
from syncd.policy.context import entry_point_suggestion
from syncd.policy.touches import (
    TASK_CHANNEL,
    contact_days,
    contact_days_by_person,
    known_touches,
    open_channels,
    pick_channel,
)


def colleague_touches(
    event: RejectionEvent,
    prospect: Prospect,
    history: History,
    calendar: Calendar,
    today: date,
    *,
    replay: bool,
    suppressed: frozenset[Channel],
    seq: int,
    cfg: PolicyConfig,
) -> tuple[list[Touch], list[RuleHit]]:
    """Entry-point tasks about colleagues of a fully opted-out person (seqs from `seq`)."""
    known = known_touches(history, today + timedelta(days=cfg.horizon_days + 1), replay)
    suggestion = entry_point_suggestion(prospect, event, history, known, today, cfg)
    if suggestion is None:
        return [], []
    owner = prospect.owner.id if prospect.owner else None
    sched = Scheduler(calendar, cfg.cadence, history.owner_load, owner)
    sched.load_account(contact_days(known.account))
    known_days = contact_days_by_person(known.account)
    available = open_channels(suppressed)
    wished = today + timedelta(days=cfg.entry_points.delay_days)
    who = briefs.display_name(prospect)
    account = prospect.account.name if prospect.account and prospect.account.name else None
    touches: list[Touch] = []
    for colleague in suggestion.colleagues:
        allowed = available - colleague.opted_out
        small = suggestion.rule_id == "entry_point.small_account"
        channel = (
            Channel.PHONE
            if small and Channel.PHONE in allowed
            else pick_channel(TouchKind.ENTRY_POINT, allowed)
        )
        if channel is None:
            continue
        key = colleague.ref.key
        sched.ensure(key, known_days.get(key, ()))
        day = sched.place(wished, key)
        if day is None:
            continue
        name = briefs.display_name(colleague)
        role = ", ".join(x for x in (colleague.title, colleague.department) if x) or "no title"
        why = (
            f"{who} asked not to be contacted at all, and is not; the account still fits: "
            f"{name} ({role}) is another way in. Do not mention {who}'s request."
        )
        touches.append(
            Touch(
                seq + len(touches),
                TouchKind.ENTRY_POINT,
                day,
                WriteKind.TASK,
                TASK_CHANNEL[channel],
                briefs.subject(
                    TouchKind.ENTRY_POINT, cfg.brief, account=account or "the account", target=name
                ),
                briefs.compose(why, suggestion.rule_id, "", cfg.brief),
                suggestion.rule_id,
                Priority.NORMAL,
                channel,
                colleague.ref,
            )
        )
    if not touches:
        return [], []
    placed = [t.target.key for t in touches if t.target is not None]
    hits = [RuleHit(suggestion.rule_id, {**suggestion.inputs, "placed": placed})]
    if sched.deferred:
        touches = [deferred(t, prospect.ref.key, sched.deferred, cfg) for t in touches]
        hits.append(sched.owner_cap_hit())
    return touches, hits
