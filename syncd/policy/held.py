"""The review route: when syncd cannot read a reply with confidence, a person reads it.

A reply whose classification asks for review opens a *hold*: the live plan gives way to a
plan of one high-priority task for the owner ("read this reply and decide", the reply's new
text quoted, syncd's best guess and its evidence), and no other touch to the person is made
until the hold is resolved. The guessed intent is never acted on meanwhile: a guessed opt-out
writes no CRM flag, a guessed "interested" ends nothing. A *decisive* opt-out, from any
source, still suppresses at once, and an outcome that ends the follow-up ends the hold with it.

Resolution comes from the CRM: the review task completed, an opt-out flag set, the person
being worked (an open opportunity or a rep's own task), or a new status or closed deal read
from the CRM. The plan is then made again from today, the reviewed reply read as a plain no,
or it ends. Pure like the rest of the policy: the engine reports what the CRM shows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from syncd.model import (
    Channel,
    Decision,
    History,
    Outcome,
    Plan,
    Priority,
    Prospect,
    RejectionEvent,
    ReviewHold,
    RuleHit,
    SourceKind,
    TaskChannel,
    Touch,
    TouchKind,
    WriteKind,
)
from syncd.policy import brief as briefs
from syncd.policy.calendar import Calendar
from syncd.policy.config import PolicyConfig
from syncd.policy.context import revision_seq

# Review reasons the classifier gives (stable ids), in the rep's words.
REASON_WORDS = {
    "low_confidence": "syncd is not confident about what it means",
    "conflicting_cues": "it says contradicting things",
    "no_cue": "nothing in it matched what syncd knows",
    "opt_out_net": "it may ask not to be contacted (the opt-out safety net fired)",
    "model_disagrees": "the learned model and the rules read it differently",
}
# Outcomes that end the follow-up: they end an open hold too.
ENDING = frozenset({Outcome.OPTED_OUT, Outcome.NOT_A_FIT, Outcome.ACTIVE})
RESOLVED_BY = {
    Outcome.OPTED_OUT: "opt_out",
    Outcome.NOT_A_FIT: "not_a_fit",
    Outcome.ACTIVE: "active",
}


def review_brief(
    event: RejectionEvent, who: str, email_held: bool, enrolled: bool, cfg: PolicyConfig
) -> str:
    """What the rep needs to decide: the reply, syncd's guess and why, and how to resolve."""
    reply = event.reply
    assert reply is not None
    reasons = [REASON_WORDS.get(r, r) for r in reply.review_reasons] or ["it was marked for review"]
    text = (reply.text or event.quote or "").strip()
    quoted = briefs.cut(text, cfg.brief.review_quote_max_chars) if text else "(no text found)"
    evidence = "; ".join(f"“{e}”" for e in reply.evidence) or "none"
    held = "Every automated touch to them is held until you resolve this" + (
        ", e-mail included (it may be an opt-out)." if email_held else "."
    )
    lines = [
        "WHY THIS TOUCH NOW",
        f"{who} replied and syncd cannot read the reply with confidence: "
        + "; ".join(reasons)
        + f". {held} (rule review.opened)",
        "",
        f"THEIR REPLY (received {event.occurred_at.date().isoformat()}, subject “{reply.subject}”)",
        quoted,
        "",
        "SYNCD'S BEST GUESS",
        f"intent: {reply.intent.value}, confidence {reply.confidence:.2f}",
        f"evidence: {evidence}",
        "",
        "TO RESOLVE",
        "- They asked not to be contacted: set the opt-out flag (e-mail opt-out / do not "
        "call) on the record. syncd ends the follow-up on those channels.",
        "- They are interested or you will work them: open an opportunity or a task of your "
        "own. syncd stops nurturing them.",
        "- Otherwise answer them as you see fit and complete this task: syncd resumes the "
        "follow-up from that day, reading the reply as a plain no.",
        "",
        "Tasks syncd created for them before this reply stay in your list: leave them until "
        "you have decided.",
    ]
    if email_held and enrolled:
        lines.append(
            "syncd added them to the nurture list earlier: take them off it if they asked not "
            "to be e-mailed."
        )
    return briefs.cut("\n".join(lines), cfg.brief.max_chars)


def open_review(
    event: RejectionEvent,
    prospect: Prospect,
    history: History,
    calendar: Calendar,
    today: date,
    generation: int,
    seq_base: int,
    suppressed: frozenset[Channel],
    rules: list[RuleHit],
    cfg: PolicyConfig,
) -> Decision:
    """Hold the person and ask the owner to read the reply: one task, nothing else."""
    reply = event.reply
    assert reply is not None and reply.review
    who = briefs.display_name(prospect)
    email_held = "opt_out_net" in reply.review_reasons
    enrolled = any(t.kind is TouchKind.ENROL for t in history.touches)
    task = Touch(
        seq=seq_base,
        kind=TouchKind.REVIEW,
        due=calendar.on_or_after(today),
        write=WriteKind.TASK,
        channel=TaskChannel.TODO,
        subject=briefs.subject(TouchKind.REVIEW, cfg.brief, who=who),
        brief=review_brief(event, who, email_held, enrolled, cfg),
        rule_id="review.opened",
        priority=Priority.HIGH,
    )
    hold = ReviewHold(
        event_id=event.event_id,
        opened_on=today,
        reasons=reply.review_reasons,
        email_held=email_held,
        opted_out=prospect.opted_out,
    )
    rules.append(
        RuleHit(
            "review.opened",
            {
                "reasons": list(reply.review_reasons),
                "intent": reply.intent.value,
                "confidence": round(reply.confidence, 3),
                "email_held": email_held,
            },
        )
    )
    ref = prospect.ref
    return Decision(
        event.event_id,
        ref,
        Outcome.REVIEW,
        Plan(ref, generation, None, (task,)),
        tuple(rules),
        suppress=suppressed,
        cancel_plan=True,
        hold=hold,
    )


def while_held(
    decision: Decision, event: RejectionEvent, history: History, today: date
) -> Decision:
    """A decision made while a hold is open, adjusted so nothing nurtures past the reply.

    Outcomes that end the follow-up end the hold. A new status or deal from the CRM means a
    rep has acted on the person: it resolves the hold and its plan stands. Anything else is
    recorded (the next plan is made from it once resolved) but held; only an opt-out write it
    carries goes out at once, added to the held plan.
    """
    hold = history.review
    assert hold is not None
    if decision.outcome in ENDING:
        by = RESOLVED_BY[decision.outcome]
        return _resolved(decision, by, event.event_id)
    if event.source is not SourceKind.REPLY and decision.outcome is Outcome.NURTURE:
        return _resolved(decision, "status_change", event.event_id)
    if decision.outcome is Outcome.IGNORED and decision.plan is None:
        return decision
    writes = tuple(
        t for t in (decision.plan.touches if decision.plan else ()) if t.kind is TouchKind.OPT_OUT
    )
    plan = None
    live = history.plan
    if writes and live is not None:
        first = revision_seq(live, today)
        carried = tuple(replace(t, seq=first + i) for i, t in enumerate(writes))
        plan = Plan(live.prospect, live.generation, None, (*live.touches, *carried))
    elif writes and decision.plan is not None:
        plan = Plan(decision.prospect, decision.plan.generation, None, writes)
    held = RuleHit(
        "review.held",
        {
            "outcome": decision.outcome.value,
            "event_id": event.event_id,
            "held_since": hold.opened_on.isoformat(),
        },
    )
    return Decision(
        decision.event_id,
        decision.prospect,
        Outcome.REVIEW,
        plan,
        (*decision.rules, held),
        suppress=decision.suppress,
        cancel_plan=False,
    )


def _resolved(decision: Decision, by: str, event_id: str) -> Decision:
    hit = RuleHit("review.resolved", {"by": by, "event_id": event_id})
    return replace(decision, rules=(*decision.rules, hit), resolved=by)


def plain_no(event: RejectionEvent, prospect: Prospect) -> RejectionEvent:
    """The reviewed reply as a plain no: its guessed intent, reason and dates are dropped."""
    if event.reply is None or not event.reply.review:
        return replace(event, prospect=prospect)
    return replace(
        event,
        prospect=prospect,
        reply=None,
        reason=None,
        reason_raw=None,
        stated_date=None,
        competitor=None,
    )
