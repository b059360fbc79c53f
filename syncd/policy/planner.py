"""Turn a decided call-back into a full plan: thank-you, nurture, check-ins, entry points.

`build_plan` is shared by `decide` (a fresh no) and `review` (a new cycle after a call-back
passed). Touches are placed in order of importance, so when the caps leave room for only
some of them the ones the policy cares most about win: opt-out write, acknowledgement,
call-back, competitor check-in, release, gatekeeper, referral, entry points, then nurture.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from syncd.model import (
    Channel,
    Plan,
    Priority,
    RuleHit,
    TouchKind,
    WriteKind,
)
from syncd.policy import brief as briefs
from syncd.policy.builder import PlanBuilder, PlanRequest, deferred, opt_out_touch
from syncd.policy.cadence import STEP_CHANNEL, Scheduler, nurture_steps
from syncd.policy.config import NURTURE_KINDS
from syncd.policy.touches import (
    contact_days,
    contact_days_by_person,
    open_channels,
    pick_channel,
)

_NURTURE_WHY = {
    TouchKind.INSIGHT_EMAIL: "share something useful you see in their market, no pitch",
    TouchKind.LINKEDIN: "stay visible: engage with their posts or send a short note",
    TouchKind.CASE_STUDY: "share how {case} got value from us",
    TouchKind.PRODUCT_UPDATE: "share what has improved since they said no",
    TouchKind.HANDWRITTEN_NOTE: "a handwritten note: this account's worth merits it",
    TouchKind.CALL: "a short check-in call to hear how they are doing",
}


@lru_cache(maxsize=4096)
def _nurture_why(kind: TouchKind, case_study: str) -> str:
    """A nurture step's "why now"; few distinct (kind, case study) pairs come up."""
    text = _NURTURE_WHY[kind].format(case=case_study)
    return f"Gentle nurture between their no and the call-back: {text}."


def build_plan(req: PlanRequest) -> tuple[Plan, list[RuleHit]]:
    """The plan for one cycle and the rules that placed its touches (caps, calendar moves)."""
    cfg = req.cfg
    b = PlanBuilder(req)
    b.seq = req.seq_base
    owner = req.prospect.owner.id if req.prospect.owner else None
    sched = Scheduler(req.calendar, cfg.cadence, req.owner_load, owner)
    sched.load(b.person, contact_days(req.known.person))
    sched.load_account(contact_days(req.known.account))
    available = open_channels(req.suppressed)

    if req.opt_out_write:
        due = req.calendar.on_or_after(req.today)
        b.touches.append(opt_out_touch(b.seq, due, req.opt_out_write, b.who, cfg))
        b.seq += 1

    if req.enrol and Channel.EMAIL in available:
        b.add(
            TouchKind.ENROL,
            req.calendar.on_or_after(req.today),
            Channel.EMAIL,
            "cadence.enrol",
            "A fitting prospect said no: add them to the nurture list so they keep hearing "
            "from us between the personal touches.",
            write=WriteKind.ENROL,
        )
        b.hits.append(RuleHit("cadence.enrol", {"enrol": True}))

    earliest = req.today
    if req.acknowledge:
        earliest = _acknowledge(b, sched, available)

    callback = _callback(b, sched, available, earliest)
    _check_in(b, sched, available, earliest, callback)
    _releases(b, sched, available, earliest, callback)
    _gatekeeper(b, sched, available, earliest, callback)
    _referral(b, sched, available)
    _entry_points(b, sched, available, earliest)
    _nurture(b, sched, available, earliest, callback)

    for cause, count in sorted(sched.moves.items()):
        inputs: dict[str, object] = {"touches_moved": count}
        if cause == "calendar.business_day":
            inputs |= {"timezone": req.calendar.tz_name, "country": req.calendar.country}
        elif cause == "cadence.cap.person":
            inputs |= {"cap": cfg.cadence.max_per_person, "window": cfg.cadence.person_window_days}
        elif cause == "cadence.cap.account":
            inputs |= {
                "cap": cfg.cadence.max_per_account,
                "window": cfg.cadence.account_window_days,
            }
        elif cause == "cadence.gap":
            inputs |= {"min_gap_days": cfg.cadence.min_gap_days}
        elif cause == "cadence.cap.owner":
            inputs |= {"cap": cfg.cadence.max_tasks_per_owner_per_day}
        b.hits.append(RuleHit(cause, inputs))
    if sched.deferred:
        b.touches = [deferred(t, b.person, sched.deferred, cfg) for t in b.touches]
    touches = tuple(sorted(b.touches, key=lambda t: (t.due, t.seq)))
    return Plan(req.ref, req.generation, callback, touches), b.hits


def _place(sched: Scheduler, wished: date, person: str, latest: date | None = None) -> date | None:
    return sched.place(wished, person, latest=latest)


def _acknowledge(b: PlanBuilder, sched: Scheduler, available: frozenset[Channel]) -> date:
    req = b.req
    wished = req.calendar.add_business_days(req.today, req.cfg.ack_delay_business_days)
    draft = req.draft_ack and Channel.EMAIL in available
    channel = Channel.EMAIL if draft else pick_channel(TouchKind.THANK_YOU, available)
    if channel is None:
        return req.today
    day = _place(sched, wished, b.person) or wished
    why = (
        f"They said no on {req.rejected_on.isoformat()}. Thank them for their time and offer to "
        "stay in touch: how they are treated now decides whether the door stays open."
    )
    if draft:
        b.add(
            TouchKind.THANK_YOU,
            day,
            channel,
            "ack.draft",
            why,
            write=WriteKind.DRAFT,
            brief=req.draft_text,
        )
    else:
        b.add(TouchKind.THANK_YOU, day, channel, "ack.task", why)
    b.hits.append(
        RuleHit(
            "ack.draft" if draft else "ack.task",
            {
                "due": day.isoformat(),
                "channel": channel.value,
                "delay": req.cfg.ack_delay_business_days,
            },
        )
    )
    return day


def _callback(
    b: PlanBuilder, sched: Scheduler, available: frozenset[Channel], earliest: date
) -> date:
    req = b.req
    wished = max(req.timing.callback, earliest + timedelta(days=1))
    day = _place(sched, wished, b.person) or req.calendar.on_or_after(wished)
    channel = pick_channel(TouchKind.CALLBACK, available)
    why = req.timing.why
    subject = None
    if req.timing.release is not None:
        release = req.timing.release.release
        why += f" Proof: {release.proof_point}" if release.proof_point else ""
        subject = briefs.release_callback_subject(release.title, b.who, req.cfg.brief)
    b.add(
        TouchKind.CALLBACK,
        day,
        channel,
        req.timing.rule_id,
        why,
        priority=Priority.HIGH,
        subject=subject,
    )
    b.hits.extend(req.timing.hits)
    return day


def _check_in(
    b: PlanBuilder, sched: Scheduler, available: frozenset[Channel], earliest: date, callback: date
) -> None:
    req = b.req
    wished = req.timing.check_in
    channel = pick_channel(TouchKind.CHECK_IN, available)
    if wished is None or channel is None:
        return
    latest = callback - timedelta(days=1)
    day = _place(sched, max(wished, earliest + timedelta(days=1)), b.person, latest)
    if day is None:
        return
    name = req.competitor or "the competitor"
    b.add(
        TouchKind.CHECK_IN,
        day,
        channel,
        "callback.competitor.check_in",
        f"An early check-in after they chose {name}: how is it going? Listen for friction.",
    )


def _releases(
    b: PlanBuilder, sched: Scheduler, available: frozenset[Channel], earliest: date, callback: date
) -> None:
    req = b.req
    channel = pick_channel(TouchKind.RELEASE, available)
    if channel is None:
        return
    for prepared in req.releases:
        release = prepared.release
        if prepared is req.timing.release or release.date <= req.releases_after:
            continue
        subject = briefs.release_subject(release.title, b.who, req.cfg.brief)
        if subject in req.offered_releases:
            continue
        wished = max(release.date, earliest + timedelta(days=1))
        day = _place(sched, wished, b.person, callback - timedelta(days=1))
        if day is None:
            continue
        proof = f" Proof: {release.proof_point}" if release.proof_point else ""
        why = (
            f"“{release.title}” shipped on {release.date.isoformat()} and answers why they said "
            f"no: come back with the improved product.{proof}"
        )
        b.add(TouchKind.RELEASE, day, channel, "release.trigger", why, subject=subject)
        b.hits.append(
            RuleHit("release.trigger", {"release": release.title, "due": day.isoformat()})
        )


def _gatekeeper(
    b: PlanBuilder, sched: Scheduler, available: frozenset[Channel], earliest: date, callback: date
) -> None:
    req = b.req
    channel = pick_channel(TouchKind.GATEKEEPER, available)
    if not req.gatekeeper or channel is None:
        return
    wished = max(req.today + timedelta(days=req.cfg.entry_points.gatekeeper_delay_days), earliest)
    day = _place(sched, wished, b.person, callback - timedelta(days=1))
    if day is None:
        return
    why = (
        f"The no came through a gatekeeper. Build rapport: understand the issues from their side, "
        f"then ask for a referral to {b.who} or whoever decides."
    )
    b.add(TouchKind.GATEKEEPER, day, channel, "entry_point.gatekeeper", why)
    b.hits.append(RuleHit("entry_point.gatekeeper", {"due": day.isoformat()}))


def _referral(b: PlanBuilder, sched: Scheduler, available: frozenset[Channel]) -> None:
    req = b.req
    if req.referral is None:
        return
    address, colleague = req.referral
    allowed = available - colleague.opted_out if colleague else available
    channel = pick_channel(TouchKind.REFERRAL, allowed)
    if channel is None:
        return
    # Unknown to the directory, the task is filed under the referrer: it counts against them.
    who = colleague.ref.key if colleague else b.person
    if colleague:
        sched.ensure(who, contact_days_by_person(req.known.account).get(who, ()))
    wished = req.calendar.add_business_days(
        req.today, req.cfg.entry_points.referral_delay_business_days
    )
    day = _place(sched, wished, who)
    if day is None:
        return
    target = briefs.display_name(colleague) if colleague else address
    why = f"{b.who} referred you to {target} ({address}): contact them and mention the referral."
    b.add(
        TouchKind.REFERRAL,
        day,
        channel,
        "referral.task",
        why,
        target=colleague,
        subject=briefs.subject(TouchKind.REFERRAL, req.cfg.brief, target=target, who=b.who),
    )
    b.hits.append(
        RuleHit("referral.task", {"known_contact": colleague.ref.key if colleague else None})
    )


def _entry_points(
    b: PlanBuilder, sched: Scheduler, available: frozenset[Channel], earliest: date
) -> None:
    req = b.req
    suggestion = req.entry_points
    if suggestion is None:
        return
    wished = max(req.today + timedelta(days=req.cfg.entry_points.delay_days), earliest)
    placed: list[str] = []
    known_days = contact_days_by_person(req.known.account)
    for colleague in suggestion.colleagues:
        allowed = available - colleague.opted_out
        small = suggestion.rule_id == "entry_point.small_account"
        # In small companies, call at the top.
        if small and Channel.PHONE in allowed:
            channel: Channel | None = Channel.PHONE
        else:
            channel = pick_channel(TouchKind.ENTRY_POINT, allowed)
        if channel is None:
            continue
        key = colleague.ref.key
        sched.ensure(key, known_days.get(key, ()))
        day = _place(sched, wished, key)
        if day is None:
            continue
        role = ", ".join(x for x in (colleague.title, colleague.department) if x) or "no title"
        if small:
            why = (
                f"In a small company, call at the top: {briefs.display_name(colleague)} ({role}) "
                f"may see it differently from {b.who}."
            )
        else:
            why = (
                f"One person's no is not the account's: {briefs.display_name(colleague)} ({role}) "
                "works in another department with other needs."
            )
        b.add(TouchKind.ENTRY_POINT, day, channel, suggestion.rule_id, why, target=colleague)
        placed.append(key)
    if placed:
        b.hits.append(RuleHit(suggestion.rule_id, {**suggestion.inputs, "placed": placed}))


def _nurture(
    b: PlanBuilder, sched: Scheduler, available: frozenset[Channel], earliest: date, callback: date
) -> None:
    req = b.req
    cad = req.cfg.cadence
    if cad.max_nurture_per_cycle == 0:
        return
    rotation = sum(1 for r in req.known.person if r.kind in NURTURE_KINDS)
    high_worth = req.amount is not None and req.amount >= cad.handwritten_note_min_amount
    prep = req.cfg.prepared
    steps = nurture_steps(prep.steps, rotation, available, high_worth, prep.nurture_orders)
    if not steps:
        return
    cursor = earliest
    latest = callback - timedelta(days=1)
    made: list[TouchKind] = []
    case = req.angles.case_study
    # Spread over long windows (a 2-year contract) instead of bunching up at the start.
    window = (callback - earliest).days
    step = timedelta(days=max(cad.interval_days, window // (cad.max_nurture_per_cycle + 1)))
    while len(made) < cad.max_nurture_per_cycle:
        wished = cursor + step
        if wished > latest:
            break
        day = sched.place(wished, b.person, gap=True, latest=latest)
        if day is None:
            break
        kind = steps[len(made) % len(steps)]
        b.add(kind, day, STEP_CHANNEL[kind], "cadence.nurture", _nurture_why(kind, case))
        made.append(kind)
        cursor = day
    if made:
        b.hits.append(
            RuleHit(
                "cadence.nurture",
                {
                    "steps": [kind.value for kind in made],
                    "rotation": rotation,
                    "interval_days": step.days,
                    "min_gap_days": cad.min_gap_days,
                },
            )
        )
