"""`decide`: one "no" in, one audited decision out, following POLICY.md's steps in order.

1 suppression (an opt-out is honoured even on a duplicate or late event), 2 fit, then replies
that are no "no" (out of office moves the plan, other auto-replies change nothing), 3 active
conversation, 4 acknowledgement, 5 call-back by reason and worth on a business day, 6 nurture
cadence within the caps, 7 other entry points, 8 cross-sell angles, 9 release touches,
10 referral. Pure: no I/O, no logging, no clock but `now`.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    Prospect,
    ProspectRef,
    ReasonKind,
    RejectionEvent,
    RuleHit,
    TaskChannel,
    Touch,
    TouchKind,
    WriteKind,
)
from syncd.policy import brief as briefs
from syncd.policy.absence import out_of_office
from syncd.policy.account_plan import account_plan
from syncd.policy.angles import matching_releases, reason_text
from syncd.policy.builder import PlanRequest, opt_out_touch
from syncd.policy.calendar import Calendar, as_utc
from syncd.policy.config import PolicyConfig
from syncd.policy.context import (
    amount_of,
    angles_for,
    brief_facts,
    calendar_for,
    entry_point_suggestion,
    fully_suppressed,
    merge_prospect,
    offered_releases,
)
from syncd.policy.entry_points import is_gatekeeper, referral_target
from syncd.policy.fit import evaluate_fit
from syncd.policy.held import open_review, while_held
from syncd.policy.opted_out import colleague_touches
from syncd.policy.planner import build_plan
from syncd.policy.reasons import resolve_reason
from syncd.policy.timing import callback_timing
from syncd.policy.touches import (
    TASK_CHANNEL,
    known_touches,
    open_channels,
    pick_channel,
)


def _suppression(
    event: RejectionEvent, prospect: Prospect, history: History
) -> tuple[frozenset[Channel], frozenset[Channel], list[RuleHit]]:
    """(every suppressed channel, channels whose CRM flag must be written, rules)."""
    hits: list[RuleHit] = []
    suppressed = history.suppressed | prospect.opted_out
    if history.suppressed:
        hits.append(RuleHit("suppress.known", {"channels": sorted(history.suppressed)}))
    if prospect.opted_out:
        hits.append(RuleHit("suppress.crm_flags", {"channels": sorted(prospect.opted_out)}))
    write: frozenset[Channel] = frozenset()
    reply = event.reply
    if reply is not None and reply.intent is Intent.OPT_OUT and not reply.review:
        asked = reply.opt_out_channels or ALL_CHANNELS
        write = asked - prospect.opted_out
        suppressed |= asked
        hits.append(
            RuleHit(
                "suppress.opt_out",
                {"channels": sorted(asked), "source": "reply", "write": sorted(write)},
            )
        )
    return suppressed, write, hits


class _Outcomes:
    """Builds the decisions that end the follow-up, carrying any opt-out write along."""

    def __init__(
        self,
        event: RejectionEvent,
        ref: ProspectRef,
        generation: int,
        suppressed: frozenset[Channel],
        opt_out: Touch | None,
        rules: list[RuleHit],
    ) -> None:
        self.event, self.ref, self.generation = event, ref, generation
        self.suppressed, self.opt_out, self.rules = suppressed, opt_out, rules

    def end(self, outcome: Outcome, *extra: Touch, cancel: bool = True) -> Decision:
        touches = tuple(t for t in (self.opt_out, *extra) if t is not None)
        plan = Plan(self.ref, self.generation, None, touches) if touches else None
        return Decision(
            self.event.event_id,
            self.ref,
            outcome,
            plan,
            tuple(self.rules),
            suppress=self.suppressed,
            cancel_plan=cancel,
        )


def decide(event: RejectionEvent, history: History, cfg: PolicyConfig, now: datetime) -> Decision:
    """Decide what follows this rejection; see the package docstring for the contract."""
    return decide_event(event, history, cfg, now)


def decide_event(
    event: RejectionEvent,
    history: History,
    cfg: PolicyConfig,
    now: datetime,
    *,
    generation: int | None = None,
    seq_base: int = 0,
    acknowledge: bool = True,
) -> Decision:
    """`decide`; `review` passes the generation and seqs when it re-plans a dropped prospect.

    Generations count the prospect's rejections (the n-th no makes generation n), so they
    only ever grow, even after a plan was dropped and the store no longer shows it. While a
    review holds the person, the decision is adjusted so nothing nurtures past the unread
    reply (see `syncd.policy.held`). `acknowledge=False` skips the thank-you (a rep already
    answered the reply they reviewed).
    """
    decision = _decide(
        event,
        history,
        cfg,
        now,
        generation=generation,
        seq_base=seq_base,
        acknowledge=acknowledge,
    )
    if history.review is not None and decision.hold is None:
        prospect = merge_prospect(event.prospect, history.prospect)
        today = calendar_for(prospect, cfg)[0].local_date(now)
        return while_held(decision, event, history, today)
    return decision


def same_message(event: RejectionEvent, earlier: Sequence[RejectionEvent]) -> RejectionEvent | None:
    """The earlier event that is this very reply read from another mailbox: the same
    RFC 822 Message-ID, under another (shard, id). Mailbox ids differ per copy; the header
    does not."""
    message_id = event.reply.message_id if event.reply is not None else ""
    if not message_id:
        return None
    for other in earlier:
        if (
            other.reply is not None
            and other.reply.message_id == message_id
            and other.identity != event.identity
        ):
            return other
    return None


def _decide(
    event: RejectionEvent,
    history: History,
    cfg: PolicyConfig,
    now: datetime,
    *,
    generation: int | None,
    seq_base: int,
    acknowledge: bool,
) -> Decision:
    prospect = merge_prospect(event.prospect, history.prospect)
    ref = prospect.ref
    calendar, rules = calendar_for(prospect, cfg)
    today = calendar.local_date(now)
    reply = event.reply
    who = briefs.display_name(prospect)

    earlier = history.rejections
    seen = any(r.identity == event.identity for r in earlier)
    replay = seen and earlier[-1].identity == event.identity
    if replay:
        earlier = earlier[:-1]  # decided before: decide it again, identically
    previous = history.plan.generation if history.plan else 0
    if generation is None:
        generation = previous if replay and history.plan else max(previous, len(earlier)) + 1

    suppressed, write, hits = _suppression(event, prospect, history)
    rules += hits
    opt_out = (
        opt_out_touch(seq_base, calendar.on_or_after(today), write, who, cfg) if write else None
    )
    ends = _Outcomes(event, ref, generation, suppressed, opt_out, rules)

    if seen and not replay:
        rules.append(RuleHit("event.duplicate", {"event_id": event.event_id}))
        return ends.end(Outcome.IGNORED, cancel=False)
    copy = same_message(event, earlier)
    if copy is not None:  # one reply delivered to several mailboxes (a CC'd rep): decided once
        rules.append(RuleHit("event.same_message", {"decided_as": copy.event_id}))
        return ends.end(Outcome.IGNORED, cancel=False)
    if fully_suppressed(suppressed, cfg):
        rules.append(RuleHit("suppress.all", {"channels": sorted(suppressed)}))
        fit = evaluate_fit(prospect.account, cfg, resolve_reason(event, cfg)[0])
        colleagues: list[Touch] = []
        # A reply nobody could read with confidence starts nothing automated, not even a
        # colleague's entry point (it may name the colleague, or ask for nobody at all).
        unread = reply is not None and reply.review
        if (
            fit.fits
            and not unread
            and not (earlier and as_utc(event.occurred_at) < as_utc(earlier[-1].occurred_at))
        ):
            seq = seq_base + (1 if opt_out is not None else 0)
            colleagues, hits = colleague_touches(
                event,
                prospect,
                history,
                calendar,
                today,
                replay=replay,
                suppressed=suppressed,
                seq=seq,
                cfg=cfg,
            )
            rules += hits
        return ends.end(Outcome.OPTED_OUT, *colleagues)
    if not cfg.suppress.all and suppressed >= cfg.suppress.full_opt_out:
        # The admin chose to keep LinkedIn and postal touches after a full opt-out: say so.
        rules.append(RuleHit("suppress.all_off", {"channels": sorted(suppressed)}))
    if earlier and as_utc(event.occurred_at) < as_utc(earlier[-1].occurred_at):
        rules.append(
            RuleHit("event.out_of_order", {"latest_known": earlier[-1].occurred_at.isoformat()})
        )
        return ends.end(Outcome.IGNORED, cancel=False)
    # A reply nobody can read with confidence: a person reads it before anything else happens.
    if reply is not None and reply.review:
        return open_review(
            event, prospect, history, calendar, today, generation, seq_base, suppressed, rules, cfg
        )

    reason, reason_hit = resolve_reason(event, cfg)
    fit = evaluate_fit(prospect.account, cfg, reason)
    fit_inputs = {"failing": list(fit.failing), "unknown": list(fit.unknown), **fit.inputs}
    if not fit.fits:
        rules.append(RuleHit("fit.not_a_fit", fit_inputs))
        if cfg.icp.trust_crm_not_a_fit:
            rules.append(reason_hit)  # the CRM's reason took part in the verdict
        return ends.end(Outcome.NOT_A_FIT)
    rules += (RuleHit("fit.ok", fit_inputs), reason_hit)
    if ref.is_account:  # a lost deal that named nobody: the owner finds the right person
        return account_plan(
            event,
            prospect,
            calendar,
            today,
            generation,
            reason,
            rules,
            cfg,
            owner_load=history.owner_load,
        )

    # Replies that are not a "no": an absence moves the plan, the rest leaves it as it is.
    if reply is not None and reply.intent is Intent.OUT_OF_OFFICE:
        return out_of_office(event, history, calendar, today, generation, suppressed, rules, cfg)
    if reply is not None and reply.auto_reply:
        rules.append(RuleHit("reply.auto_reply", {"intent": reply.intent.value}))
        return ends.end(Outcome.AUTO_REPLY, cancel=False)
    if reply is not None and reply.intent is Intent.OTHER:
        rules.append(RuleHit("reply.other", {"intent": reply.intent.value}))
        return ends.end(Outcome.IGNORED, cancel=False)

    available = open_channels(suppressed)
    if reply is not None and reply.intent is Intent.INTERESTED:
        rules.append(RuleHit("active.interested", {"reply": True}))
        channel = pick_channel(TouchKind.URGENT, available)
        urgent = Touch(
            seq=seq_base + 1,
            kind=TouchKind.URGENT,
            due=calendar.on_or_after(today),
            write=WriteKind.TASK,
            channel=TASK_CHANNEL[channel] if channel else TaskChannel.TODO,
            subject=briefs.subject(TouchKind.URGENT, cfg.brief, who=who),
            brief=briefs.compose(
                "They replied with interest after a no: answer today.",
                "active.interested",
                _quote_only(event, cfg),
                cfg.brief,
            ),
            rule_id="active.interested",
            priority=Priority.HIGH,
            suppress_channel=channel,
        )
        return ends.end(Outcome.ACTIVE, urgent)
    if history.active:
        rules.append(RuleHit("active.open_work", {"had_plan": history.plan is not None}))
        notice = Touch(
            seq=seq_base + 1,
            kind=TouchKind.URGENT,
            due=calendar.on_or_after(today),
            write=WriteKind.TASK,
            channel=TaskChannel.TODO,
            subject=briefs.cut(
                f"{who} said no but is being worked: follow up now", cfg.brief.subject_max_chars
            ),
            brief=briefs.compose(
                "An open opportunity or task covers this person while a no came in, so syncd "
                "does not nurture them: make sure the no is answered in that conversation.",
                "active.open_work",
                _quote_only(event, cfg),
                cfg.brief,
            ),
            rule_id="active.open_work",
            priority=Priority.HIGH,
        )
        return ends.end(Outcome.ACTIVE, notice)

    return _nurture(
        event=event,
        history=history,
        cfg=cfg,
        prospect=prospect,
        calendar=calendar,
        today=today,
        earlier=earlier,
        replay=replay,
        generation=generation,
        suppressed=suppressed,
        write=write,
        reason=reason,
        rules=rules,
        seq_base=seq_base,
        acknowledge=acknowledge,
    )


def _quote_only(event: RejectionEvent, cfg: PolicyConfig) -> str:
    if not event.quote or not cfg.brief.quote_max_chars:
        return ""
    return f"Their words: “{briefs.trim_quote(event.quote, cfg.brief.quote_max_chars)}”"


def _nurture(
    *,
    event: RejectionEvent,
    history: History,
    cfg: PolicyConfig,
    prospect: Prospect,
    calendar: Calendar,
    today: date,
    earlier: tuple[RejectionEvent, ...],
    replay: bool,
    generation: int,
    suppressed: frozenset[Channel],
    write: frozenset[Channel],
    reason: ReasonKind,
    rules: list[RuleHit],
    seq_base: int,
    acknowledge: bool,
) -> Decision:
    reply = event.reply
    made_until = today + timedelta(days=cfg.horizon_days + 1)
    known = known_touches(history, made_until, replay)
    rejected_on = calendar.local_date(event.occurred_at)
    competitor = event.competitor or (reply.competitor if reply else None)
    amount = amount_of(event, earlier)

    skip: str | None = None
    if not acknowledge:
        skip = "reviewed"
    elif reply is not None and reply.intent is Intent.OPT_OUT:
        skip = "opt_out"
    elif (today - rejected_on).days > cfg.ack_max_age_days:
        skip = "stale_rejection"
    elif any(
        r.kind is TouchKind.THANK_YOU
        and today - timedelta(days=cfg.ack_max_age_days) <= r.due <= today
        for r in known.person
    ):
        skip = "recent_thank_you"
    if skip is not None:
        acknowledge = False
        rules.append(RuleHit("ack.skipped", {"why": skip}))
    earliest = (
        calendar.add_business_days(today, cfg.ack_delay_business_days) if acknowledge else today
    )

    text = reason_text(event)
    releases = matching_releases(reason, text, cfg)
    timing = callback_timing(
        reason=reason,
        rejected_on=rejected_on,
        earliest=earliest,
        stated=event.stated_date or (reply.followup_after if reply else None),
        amount=amount,
        competitor=competitor,
        term_text=" ".join(p for p in (event.reason_raw, event.quote) if p) or None,
        releases=releases,
        cfg=cfg,
    )
    suggestion = entry_point_suggestion(prospect, event, history, known, today, cfg)
    angles = angles_for(prospect, releases, rejected_on, cfg)
    if angles.cross_sell:
        rules.append(
            RuleHit("cross_sell.angles", {"product_lines": [p.name for p in angles.cross_sell]})
        )
    if angles.releases:
        rules.append(
            RuleHit("release.match", {"releases": [r.release.title for r in angles.releases]})
        )
    facts = brief_facts(
        event=event,
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
    referral = None
    if reply is not None and reply.referral_email:
        referral = (reply.referral_email, referral_target(reply.referral_email, history.colleagues))
    plan, plan_hits = build_plan(
        PlanRequest(
            cfg=cfg,
            calendar=calendar,
            today=today,
            prospect=prospect,
            ref=prospect.ref,
            generation=generation,
            timing=timing,
            suppressed=suppressed,
            known=known,
            shared_brief=briefs.shared_brief(facts, cfg.brief),
            angles=angles,
            rejected_on=rejected_on,
            amount=amount,
            competitor=competitor,
            acknowledge=acknowledge,
            draft_ack=reply is not None,
            draft_text=briefs.draft_body(prospect, prospect.account, cfg.brief),
            opt_out_write=write,
            gatekeeper=is_gatekeeper(prospect, reply, cfg),
            referral=referral,
            entry_points=suggestion,
            releases=releases,
            offered_releases=offered_releases(history.plan, made_until),
            releases_after=rejected_on,
            enrol=cfg.cadence.enrol,
            seq_base=seq_base,
            owner_load=history.owner_load,
        )
    )
    if history.plan is not None:
        rules.append(
            RuleHit(
                "plan.update",
                {
                    "previous_generation": history.plan.generation,
                    "generation": generation,
                    "replay": replay,
                    "earlier_rejections": len(earlier),
                },
            )
        )
    else:
        rules.append(RuleHit("plan.new", {"generation": generation}))
    rules += plan_hits
    return Decision(
        event.event_id, prospect.ref, Outcome.NURTURE, plan, tuple(rules), suppress=suppressed
    )
