"""A lost deal that named nobody: the account is followed up, through its owner.

When neither the deal nor the account yields a person (see `ContactFallback`), the plan's
subject is the account itself. Its owner (the deal's owner) gets a task to find the right
person at the account soon, and the call-back the reason and worth call for, so the loss is
never dropped. No touch reaches anyone automatically: there is nobody to reach yet.
"""

from __future__ import annotations

from datetime import date

from syncd.model import (
    Decision,
    Outcome,
    Plan,
    Priority,
    Prospect,
    ReasonKind,
    RejectionEvent,
    RuleHit,
    TaskChannel,
    Touch,
    TouchKind,
    WriteKind,
)
from syncd.ownerload import OwnerLoad
from syncd.policy import brief as briefs
from syncd.policy.angles import matching_releases, reason_text
from syncd.policy.builder import deferred_brief
from syncd.policy.cadence import owner_cap_rule, owner_day
from syncd.policy.calendar import Calendar
from syncd.policy.config import PolicyConfig
from syncd.policy.timing import callback_timing

RULE = "contactless.account_plan"


def account_plan(
    event: RejectionEvent,
    prospect: Prospect,
    calendar: Calendar,
    today: date,
    generation: int,
    reason: ReasonKind,
    rules: list[RuleHit],
    cfg: PolicyConfig,
    seq_base: int = 0,
    owner_load: OwnerLoad | None = None,
) -> Decision:
    account = prospect.account.name if prospect.account and prospect.account.name else None
    where = account or "the account"
    rejected_on = calendar.local_date(event.occurred_at)
    wished_find = calendar.add_business_days(today, cfg.ack_delay_business_days)
    owner = prospect.owner.id if prospect.owner else None
    # Both are the owner's tasks: each takes the first day with room under the daily cap.
    find_on, find_moved = owner_day(calendar, owner_load, owner, wished_find)
    timing = callback_timing(
        reason=reason,
        rejected_on=rejected_on,
        earliest=wished_find,
        stated=event.stated_date,
        amount=event.amount,
        competitor=event.competitor,
        term_text=" ".join(p for p in (event.reason_raw, event.quote) if p) or None,
        releases=matching_releases(reason, reason_text(event), cfg),
        cfg=cfg,
    )
    callback, call_moved = owner_day(calendar, owner_load, owner, max(timing.callback, find_on))
    lost = f"The deal was lost on {rejected_on.isoformat()} and names no contact"
    facts = f"Reason: {event.reason_raw or reason.value}." + (
        f" Competitor: {event.competitor}." if event.competitor else ""
    )
    find = Touch(
        seq_base,
        TouchKind.ENTRY_POINT,
        find_on,
        WriteKind.TASK,
        TaskChannel.TODO,
        briefs.cut(f"Find the right person at {where}", cfg.brief.subject_max_chars),
        _noted(
            briefs.compose(
                f"{lost}, nor does the account have a recently active or primary contact: find "
                "who decides, add them to the deal and the account, and syncd follows them up.",
                RULE,
                facts,
                cfg.brief,
            ),
            find_moved,
            cfg,
        ),
        RULE,
        Priority.NORMAL,
    )
    call = Touch(
        seq_base + 1,
        TouchKind.CALLBACK,
        callback,
        WriteKind.TASK,
        TaskChannel.TODO,
        briefs.cut(f"Call back {where}: the time may be right now", cfg.brief.subject_max_chars),
        _noted(briefs.compose(timing.why, timing.rule_id, facts, cfg.brief), call_moved, cfg),
        timing.rule_id,
        Priority.HIGH,
    )
    rules += [
        RuleHit(RULE, {"account": prospect.ref.id, "find_on": find_on.isoformat()}),
        *timing.hits,
    ]
    if find_moved or call_moved:
        rules.append(owner_cap_rule(int(find_moved) + int(call_moved), cfg.cadence))
    plan = Plan(prospect.ref, generation, callback, (find, call))
    return Decision(event.event_id, prospect.ref, Outcome.NURTURE, plan, tuple(rules))


def _noted(brief: str, moved: bool, cfg: PolicyConfig) -> str:
    """Tell the owner why a task the daily cap moved lands later than it might have."""
    return deferred_brief(brief, cfg) if moved else brief
