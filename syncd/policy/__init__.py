"""The follow-up policy: pure functions of (event, history, config, now) -> Decision.

Base rules: suppression, fit, active conversation, acknowledgement, and a call-back after
`base_callback_days` on a weekday. The engine calls `decide` and nothing else.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from syncd.model import (
    ALL_CHANNELS,
    Channel,
    Decision,
    History,
    Intent,
    Outcome,
    Plan,
    Priority,
    RejectionEvent,
    RuleHit,
    TaskChannel,
    Touch,
    TouchKind,
    WriteKind,
)
from syncd.policy.config import PolicyConfig

__all__ = ["decide"]


def _next_business_day(day: date, offset: int = 0) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(offset):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


def _fit_failures(event: RejectionEvent, cfg: PolicyConfig) -> list[str]:
    account = event.prospect.account
    icp = cfg.icp
    failures: list[str] = []
    employees = account.employees if account else None
    if employees is not None:
        if icp.min_employees is not None and employees < icp.min_employees:
            failures.append("employees_below_min")
        if icp.max_employees is not None and employees > icp.max_employees:
            failures.append("employees_above_max")
    elif not icp.unknown_is_fit and (icp.min_employees or icp.max_employees):
        failures.append("employees_unknown")
    industry = account.industry if account else None
    if icp.industries and industry is not None and industry not in icp.industries:
        failures.append("industry")
    country = account.country if account else None
    if icp.countries and country is not None and country not in icp.countries:
        failures.append("country")
    return failures


def decide(event: RejectionEvent, history: History, cfg: PolicyConfig, now: datetime) -> Decision:
    today = now.date()
    ref = event.prospect.ref
    rules: list[RuleHit] = []
    generation = history.plan.generation + 1 if history.plan else 1
    reply = event.reply
    suppressed = set(history.suppressed | event.prospect.opted_out)
    touches: list[Touch] = []
    if reply and reply.intent is Intent.OPT_OUT:
        asked = reply.opt_out_channels or ALL_CHANNELS
        suppressed |= asked
        rules.append(RuleHit("suppress.opt_out", {"channels": sorted(asked)}))
        touches.append(
            Touch(
                0,
                TouchKind.OPT_OUT,
                today,
                WriteKind.OPT_OUT,
                TaskChannel.TODO,
                "Opt-out recorded",
                "The prospect asked not to be contacted.",
                "suppress.opt_out",
                opt_out_channels=frozenset(asked),
            )
        )
    if suppressed >= {Channel.EMAIL, Channel.PHONE}:
        rules.append(RuleHit("suppress.all", {"channels": sorted(suppressed)}))
        plan = Plan(ref, generation, None, tuple(touches)) if touches else None
        return Decision(
            event.event_id,
            ref,
            Outcome.OPTED_OUT,
            plan,
            tuple(rules),
            suppress=frozenset(suppressed),
            cancel_plan=True,
        )
    failures = _fit_failures(event, cfg)
    if failures:
        rules.append(RuleHit("fit.not_a_fit", {"failing": failures}))
        return Decision(
            event.event_id,
            ref,
            Outcome.NOT_A_FIT,
            None,
            tuple(rules),
            suppress=frozenset(suppressed),
            cancel_plan=True,
        )
    rules.append(RuleHit("fit.ok", {}))
    if history.active or (reply and reply.intent is Intent.INTERESTED):
        rules.append(RuleHit("active.reengaged", {"interested_reply": bool(reply)}))
        urgent = Touch(
            1,
            TouchKind.URGENT,
            today,
            WriteKind.TASK,
            TaskChannel.CALL,
            "Prospect re-engaged: follow up now",
            "They re-engaged after a no.",
            "active.reengaged",
            Priority.HIGH,
        )
        return Decision(
            event.event_id,
            ref,
            Outcome.ACTIVE,
            Plan(ref, generation, None, (urgent,)),
            tuple(rules),
            suppress=frozenset(suppressed),
            cancel_plan=True,
        )
    ack_day = _next_business_day(today, cfg.ack_delay_business_days)
    if Channel.EMAIL not in suppressed:
        touches.append(
            Touch(
                1,
                TouchKind.THANK_YOU,
                ack_day,
                WriteKind.TASK,
                TaskChannel.EMAIL,
                "Thank them and offer to stay in touch",
                "Say thank you; offer to keep them posted.",
                "ack.thank_you",
                suppress_channel=Channel.EMAIL,
            )
        )
        rules.append(RuleHit("ack.thank_you", {"due": ack_day.isoformat()}))
    callback = _next_business_day(event.occurred_at.date() + timedelta(days=cfg.base_callback_days))
    callback = max(callback, _next_business_day(ack_day, 1))
    if Channel.PHONE not in suppressed:
        touches.append(
            Touch(
                2,
                TouchKind.CALLBACK,
                callback,
                WriteKind.TASK,
                TaskChannel.CALL,
                "Call back: the time may be right now",
                "Scheduled call-back after their no.",
                "callback.base",
                suppress_channel=Channel.PHONE,
            )
        )
    rules.append(
        RuleHit("callback.base", {"days": cfg.base_callback_days, "due": callback.isoformat()})
    )
    plan = Plan(ref, generation, callback, tuple(touches))
    return Decision(
        event.event_id, ref, Outcome.NURTURE, plan, tuple(rules), suppress=frozenset(suppressed)
    )
