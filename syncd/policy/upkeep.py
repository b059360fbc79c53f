"""`review` (daily, per live plan) and `recheck` (per touch, right before it is written).

Plans live for months; the world changes under them. `review` applies what changed without a
new "no": an account that no longer fits (or fits again), an opt-out that removed a channel,
a release that now answers their reason, a call-back that passed without an answer (the
cycle starts again: never stop while they fit). `recheck` is the last look before a touch
becomes a task or a draft.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from syncd.model import (
    Channel,
    Decision,
    History,
    Outcome,
    Plan,
    Priority,
    ReasonKind,
    RejectionEvent,
    ReviewHold,
    RuleHit,
    Touch,
    TouchKind,
    WriteKind,
)
from syncd.policy import brief as briefs
from syncd.policy.angles import matching_releases, reason_text
from syncd.policy.builder import PlanRequest, deferred
from syncd.policy.cadence import Scheduler
from syncd.policy.calendar import Calendar, as_utc
from syncd.policy.config import PolicyConfig
from syncd.policy.context import (
    amount_of,
    angles_for,
    brief_facts,
    calendar_for,
    carried_rules,
    entry_point_suggestion,
    fully_suppressed,
    offered_releases,
    revision_seq,
)
from syncd.policy.decision import decide_event
from syncd.policy.fit import evaluate_fit
from syncd.policy.held import plain_no
from syncd.policy.planner import build_plan
from syncd.policy.reasons import resolve_reason
from syncd.policy.timing import next_cycle_timing
from syncd.policy.touches import (
    NOT_CONTACT,
    TASK_CHANNEL,
    contact_days,
    known_touches,
    open_channels,
    pick_channel,
    preference_of,
)

# Marks a touch made by this review before the revision numbers it (beyond any real seq).
_UNNUMBERED = 2**31


def review(history: History, cfg: PolicyConfig, now: datetime) -> Decision | None:
    """A changed decision for this prospect's plan, or None when the plan still stands.

    Meant to run after a cycle's materialisation: touches due within the horizon are then
    already written, and a revision carries them over unchanged; everything later is issued
    again under fresh seqs, since the store replaces a plan's unwritten touches.
    """
    prospect, plan = history.prospect, history.plan
    latest = history.rejections[-1] if history.rejections else None
    if prospect is None or latest is None or prospect.ref.is_account:
        return None  # an account-level plan stands until the owner names a person
    calendar, rules = calendar_for(prospect, cfg)
    today = calendar.local_date(now)
    ref = prospect.ref
    event_id = f"review:{ref.key}:{today.isoformat()}"
    suppressed = history.suppressed | prospect.opted_out

    hold = history.review
    resolved = None if hold is None else hold.resolution or "opt_out_flag"

    def end(outcome: Outcome, *hits: RuleHit) -> Decision:
        if resolved is not None:
            hits = (*hits, RuleHit("review.resolved", {"by": resolved}))
        return Decision(
            event_id,
            ref,
            outcome,
            None,
            (*rules, *hits),
            suppress=suppressed,
            cancel_plan=True,
            resolved=resolved,
        )

    if fully_suppressed(suppressed, cfg):
        if plan is None or _colleagues_only(plan):
            return None
        return end(Outcome.OPTED_OUT, RuleHit("suppress.all", {"channels": sorted(suppressed)}))
    if hold is not None:
        if hold.resolution is None:
            return None  # held: nothing moves until a rep has read the reply
        return _resume(history, hold, latest, today, now, cfg, end)
    reason, reason_hit = resolve_reason(latest, cfg)
    fit = evaluate_fit(prospect.account, cfg, reason)
    fit_inputs = {"failing": list(fit.failing), "unknown": list(fit.unknown), **fit.inputs}
    if plan is None:
        # Dropped as not a fit (or after re-engaging): companies grow into the profile.
        if not fit.fits or history.active:
            return None
        # The dropped plan had the latest no's generation: reuse it, with seqs of its own.
        fresh = decide_event(
            replace(latest, prospect=prospect),
            replace(history, rejections=history.rejections[:-1]),
            cfg,
            now,
            generation=len(history.rejections),
            seq_base=revision_seq(None, today),
        )
        if fresh.plan is None or fresh.outcome is not Outcome.NURTURE:
            return None
        return replace(
            fresh,
            event_id=event_id,
            rules=(RuleHit("review.fit.regained", fit_inputs), *fresh.rules),
        )
    if not fit.fits:
        return end(Outcome.NOT_A_FIT, RuleHit("review.fit.not_a_fit", fit_inputs))
    if history.active:
        return end(Outcome.ACTIVE, RuleHit("review.active", {"open_work": True}))

    # The materialiser writes by the UTC date, not the owner's: a day ahead east of UTC, the
    # local date would count unwritten touches as made and leave them on an opted-out channel.
    made_until = now.astimezone(UTC).date() + timedelta(days=cfg.horizon_days + 1)
    if plan.callback_on is not None and plan.callback_on < today:
        cycle = _Cycle(history, plan, latest, calendar, today, made_until)
        return _next_cycle(cycle, reason, reason_hit, rules, cfg)

    touches = list(plan.touches)
    changed = _rechannel(touches, suppressed, made_until, rules)
    changed |= _release_touches(history, plan, touches, latest, reason, calendar, today, cfg, rules)
    if not changed:
        return None
    # The store replaces every touch not yet materialised and never reuses a seq, so those
    # are issued again under fresh seqs; materialised ones stay as they are.
    made = [t for t in touches if t.due <= made_until and t.seq < _UNNUMBERED]
    pending = sorted(
        (t for t in touches if t.due > made_until or t.seq >= _UNNUMBERED),
        key=lambda t: (t.due, t.seq),
    )
    first = revision_seq(plan, today)
    renumbered = [replace(t, seq=first + i) for i, t in enumerate(pending)]
    callback = next((t.due for t in renumbered if t.kind is TouchKind.CALLBACK), plan.callback_on)
    ordered = tuple(sorted((*made, *renumbered), key=lambda t: (t.due, t.seq)))
    rules = [reason_hit, *rules]
    rules += carried_rules(ordered, rules)
    return Decision(
        event_id,
        ref,
        Outcome.NURTURE,
        Plan(ref, plan.generation, callback, ordered),
        tuple(rules),
        suppress=suppressed,
    )


def _resume(
    history: History,
    hold: ReviewHold,
    latest: RejectionEvent,
    today: date,
    now: datetime,
    cfg: PolicyConfig,
    end: Callable[..., Decision],
) -> Decision:
    """A rep resolved the review: end on open work, else plan again from today."""
    prospect = history.prospect
    assert prospect is not None and hold.resolution is not None
    if history.active:
        return end(Outcome.ACTIVE, RuleHit("review.active", {"open_work": True}))
    # The reviewed reply (if it is the latest no) counts as a plain no: its guess is not used.
    fresh = decide_event(
        plain_no(latest, prospect),
        replace(history, rejections=history.rejections[:-1], review=None),
        cfg,
        now,
        generation=max(len(history.rejections), history.plan.generation if history.plan else 0),
        seq_base=revision_seq(history.plan, today),
        acknowledge=False,
    )
    hit = RuleHit("review.resolved", {"by": hold.resolution, "event_id": hold.event_id})
    return replace(
        fresh,
        event_id=f"review:{prospect.ref.key}:{today.isoformat()}",
        rules=(hit, *fresh.rules),
        resolved=hold.resolution,
        cancel_plan=True,
    )


def _rechannel(
    touches: list[Touch], suppressed: frozenset[Channel], made_until: date, rules: list[RuleHit]
) -> bool:
    """Touches not yet materialised move off a channel opted out since (or drop out)."""
    moved = dropped = 0
    available = open_channels(suppressed)
    for index in range(len(touches) - 1, -1, -1):
        touch = touches[index]
        if touch.due <= made_until or touch.suppress_channel not in suppressed:
            continue
        channel = pick_channel(touch.kind, available) if preference_of(touch.kind) else None
        if channel is None:
            del touches[index]
            dropped += 1
        else:
            touches[index] = replace(touch, channel=TASK_CHANNEL[channel], suppress_channel=channel)
            moved += 1
    if moved or dropped:
        rules.append(
            RuleHit(
                "review.suppression",
                {"channels": sorted(suppressed), "rechannelled": moved, "dropped": dropped},
            )
        )
    return bool(moved or dropped)


def _release_touches(
    history: History,
    plan: Plan,
    touches: list[Touch],
    latest: RejectionEvent,
    reason: ReasonKind,
    calendar: Calendar,
    today: date,
    cfg: PolicyConfig,
    rules: list[RuleHit],
) -> bool:
    """A release configured since the plan was made, answering their no: the "we improved"."""
    prospect = history.prospect
    callback = plan.callback_on
    if prospect is None or callback is None or not cfg.prepared.releases:
        return False
    rejected_on = calendar.local_date(latest.occurred_at)
    who = briefs.display_name(prospect)
    subjects = {t.subject for t in touches}
    fresh = [
        r
        for r in matching_releases(reason, reason_text(latest), cfg)
        if rejected_on < r.release.date < callback
        and briefs.release_subject(r.release.title, who, cfg.brief) not in subjects
        and briefs.release_callback_subject(r.release.title, who, cfg.brief) not in subjects
    ]
    # No channel, no task: nothing is scheduled (a day booked for nothing would hold a place
    # in the rep's day).
    available = open_channels(history.suppressed | prospect.opted_out)
    channel = pick_channel(TouchKind.RELEASE, available)
    if not fresh or channel is None:
        return False
    known = known_touches(history, None, replay=True)
    owner = prospect.owner.id if prospect.owner else None
    sched = Scheduler(calendar, cfg.cadence, history.owner_load, owner)
    key = plan.prospect.key
    mine = [t.due for t in touches if t.target is None and t.kind not in NOT_CONTACT]
    sched.load(key, [*contact_days(known.person), *mine])
    sched.load_account(
        [*contact_days(known.account), *(t.due for t in touches if t.kind not in NOT_CONTACT)]
    )
    facts = brief_facts(
        event=latest,
        prospect=prospect,
        rejected_on=rejected_on,
        reason=reason,
        competitor=latest.competitor or (latest.reply.competitor if latest.reply else None),
        earlier=history.rejections[:-1],
        known=known,
        today=today,
        history=history,
        suggestion=None,
        angles=angles_for(prospect, tuple(fresh), rejected_on, cfg),
        cfg=cfg,
    )
    shared = briefs.shared_brief(facts, cfg.brief)
    added: list[str] = []
    for prepared in fresh:
        release = prepared.release
        wished = max(release.date, today + timedelta(days=1))
        day = sched.place(wished, key, latest=callback - timedelta(days=1))
        if day is None:
            continue
        proof = f" Proof: {release.proof_point}" if release.proof_point else ""
        why = (
            f"“{release.title}” ships on {release.date.isoformat()} and answers why they said "
            f"no ({reason.value}): come back with the improved product.{proof}"
        )
        release_touch = Touch(
            seq=_UNNUMBERED,  # numbered with the rest of the revision
            kind=TouchKind.RELEASE,
            due=day,
            write=WriteKind.TASK,
            channel=TASK_CHANNEL[channel],
            subject=briefs.release_subject(release.title, who, cfg.brief),
            brief=briefs.compose(why, "review.release.trigger", shared, cfg.brief),
            rule_id="review.release.trigger",
            priority=Priority.NORMAL,
            suppress_channel=channel,
        )
        touches.append(deferred(release_touch, key, sched.deferred, cfg))
        added.append(release.title)
    if added:
        rules.append(RuleHit("review.release.trigger", {"releases": added}))
    if sched.deferred:
        rules.append(sched.owner_cap_hit())
    return bool(added)


@dataclass(slots=True)
class _Cycle:
    history: History
    plan: Plan
    latest: RejectionEvent
    calendar: Calendar
    today: date
    made_until: date


def _next_cycle(
    cycle: _Cycle, reason: ReasonKind, reason_hit: RuleHit, rules: list[RuleHit], cfg: PolicyConfig
) -> Decision:
    """The call-back passed with no new no and no yes: plan the next cycle from it."""
    history, plan, latest, today = cycle.history, cycle.plan, cycle.latest, cycle.today
    prospect = history.prospect
    assert prospect is not None  # review returns early without one
    calendar = cycle.calendar
    last_callback = plan.callback_on or today
    earlier = history.rejections[:-1]
    known = known_touches(history, cycle.made_until, replay=False)
    amount = amount_of(latest, earlier)
    releases = matching_releases(reason, reason_text(latest), cfg)
    suggestion = entry_point_suggestion(prospect, latest, history, known, today, cfg)
    angles = angles_for(prospect, releases, last_callback, cfg)
    competitor = latest.competitor or (latest.reply.competitor if latest.reply else None)
    rejected_on = calendar.local_date(latest.occurred_at)
    facts = brief_facts(
        event=latest,
        prospect=prospect,
        rejected_on=rejected_on,
        reason=reason,
        competitor=competitor,
        earlier=earlier,
        known=known,
        today=today,
        history=history,
        suggestion=suggestion,
        angles=angles,
        cfg=cfg,
    )
    suppressed = history.suppressed | prospect.opted_out
    # Same generation: only a new no starts one. The cycle's touches get seqs of their own.
    generation = plan.generation
    new_plan, hits = build_plan(
        PlanRequest(
            cfg=cfg,
            calendar=calendar,
            today=today,
            prospect=prospect,
            ref=prospect.ref,
            generation=generation,
            timing=next_cycle_timing(last_callback, today, amount, cfg),
            suppressed=suppressed,
            known=known,
            shared_brief=briefs.shared_brief(facts, cfg.brief),
            angles=angles,
            rejected_on=rejected_on,
            amount=amount,
            competitor=competitor,
            acknowledge=False,
            draft_ack=False,
            draft_text="",
            opt_out_write=frozenset(),
            gatekeeper=False,
            referral=None,
            entry_points=suggestion,
            releases=releases,
            offered_releases=offered_releases(plan, cycle.made_until),
            releases_after=last_callback,
            seq_base=revision_seq(plan, today),
            owner_load=cycle.history.owner_load,
        )
    )
    rules += [reason_hit, RuleHit("plan.update", {"generation": generation, "cycle": True})]
    return Decision(
        f"review:{prospect.ref.key}:{today.isoformat()}",
        prospect.ref,
        Outcome.NURTURE,
        new_plan,
        (*rules, *hits),
        suppress=suppressed,
    )


def _colleagues_only(plan: Plan) -> bool:
    """A full opt-out's plan: only tasks about colleagues (and the opt-out write) are left."""
    return plan.callback_on is None and all(
        t.target is not None or t.write is WriteKind.OPT_OUT for t in plan.touches
    )


def recheck(touch: Touch, history: History, cfg: PolicyConfig, now: datetime) -> str | None:
    """Why this touch must not be written now (a dotted reason), or None to write it.

    Called by the engine right before materialising: opt-outs (the prospect's, or the
    target's for a touch about a colleague), fit on the account's current data, an active
    conversation, and a thank-you that would arrive too late. Opt-out writes always go.
    """
    if touch.write is WriteKind.OPT_OUT:
        return None
    prospect = history.prospect
    suppressed = history.suppressed | (prospect.opted_out if prospect else frozenset())
    if fully_suppressed(suppressed, cfg) and touch.target is None:
        return "suppressed.all"  # a touch about a colleague does not reach them
    if touch.kind is TouchKind.REVIEW:
        return None  # the rep must read the reply whatever else is true
    if history.review is not None:
        return "held_for_review"
    if touch.suppress_channel is not None and touch.suppress_channel in suppressed:
        return f"suppressed.{touch.suppress_channel.value}"
    if touch.target is not None:
        target = next((c for c in history.colleagues if c.ref == touch.target), None)
        if target is not None and (
            fully_suppressed(target.opted_out, cfg) or touch.suppress_channel in target.opted_out
        ):
            return "target_suppressed"
    if prospect is not None:
        crm_reason = None
        if cfg.icp.trust_crm_not_a_fit and history.rejections:
            crm_reason = resolve_reason(history.rejections[-1], cfg)[0]
        if not evaluate_fit(prospect.account, cfg, crm_reason).fits:
            return "not_a_fit"
    if history.active and touch.kind is not TouchKind.URGENT:
        return "active"
    if touch.kind is TouchKind.THANK_YOU:
        today = calendar_for(prospect, cfg)[0].local_date(now) if prospect else as_utc(now).date()
        if (today - touch.due).days > cfg.ack_max_age_days:
            return "stale_acknowledgement"
    return None
