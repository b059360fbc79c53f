"""What `decide` and `review` both need to know about a prospect before applying rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, timedelta

from syncd.model import (
    Channel,
    History,
    Plan,
    Prospect,
    ReasonKind,
    RejectionEvent,
    RuleHit,
    Touch,
    TouchKind,
)
from syncd.policy import brief as briefs
from syncd.policy.angles import Angles, case_study_hint, cross_sell
from syncd.policy.calendar import Calendar, calendar_of
from syncd.policy.config import PolicyConfig
from syncd.policy.entry_points import Suggestion, suggest_colleagues
from syncd.policy.prepared import PreparedRelease, normalise_country
from syncd.policy.reasons import resolve_reason
from syncd.policy.touches import KnownTouches


def fully_suppressed(channels: frozenset[Channel], cfg: PolicyConfig) -> bool:
    """Opted out of every direct channel (`[policy.suppress] full_opt_out`, default e-mail and
    phone) means they asked to be left alone: with `suppress.all` on, LinkedIn and postal
    notes alone would read as evading their wish, so no touch reaches them at all."""
    return cfg.suppress.all and channels >= cfg.suppress.full_opt_out


def merge_prospect(fresh: Prospect, known: Prospect | None) -> Prospect:
    """The event's snapshot, completed by what the directory knows; opt-outs add up."""
    if known is None or known is fresh:
        return fresh
    if (
        fresh.account is not None
        and fresh.owner is not None
        and known.opted_out <= fresh.opted_out
        and fresh.title is not None
    ):
        return fresh
    return Prospect(
        ref=fresh.ref,
        account=fresh.account or known.account,
        owner=fresh.owner or known.owner,
        email=fresh.email or known.email,
        name=fresh.name or known.name,
        title=fresh.title or known.title,
        department=fresh.department or known.department,
        opted_out=fresh.opted_out | known.opted_out,
    )


def calendar_for(prospect: Prospect, cfg: PolicyConfig) -> tuple[Calendar, list[RuleHit]]:
    """The owner's time zone (falling back to the configured default) and the account country."""
    prep = cfg.prepared
    hits: list[RuleHit] = []
    wanted = prospect.owner.timezone if prospect.owner else cfg.calendar.default_timezone
    raw_country = prospect.account.country if prospect.account else None
    country = normalise_country(raw_country, prep.country_aliases)
    if raw_country and country is None:
        hits.append(RuleHit("calendar.country_unknown", {"country": raw_country}))
    calendar = calendar_of(wanted, country, prep.weekend, prep.extra_holidays)
    if calendar is None:
        used = cfg.calendar.default_timezone
        hits.append(RuleHit("calendar.timezone_unknown", {"timezone": wanted, "used": used}))
        calendar = calendar_of(used, country, prep.weekend, prep.extra_holidays) or Calendar(
            UTC, "UTC", country, prep.weekend, prep.extra_holidays
        )
    return calendar, hits


# Seqs: a plan made by `decide` numbers its touches from 0 (fewer than SEQ_BLOCK of them);
# touches `review` adds or re-issues take a block of their own per day. The store never reuses
# the seq of a cancelled touch, so a revision must not either.
SEQ_BLOCK = 100
_SEQ_EPOCH = date(2000, 1, 1)


def revision_seq(plan: Plan | None, today: date) -> int:
    """The first seq for touches a review issues today."""
    base = SEQ_BLOCK * (today - _SEQ_EPOCH).days
    used = [t.seq for t in plan.touches if base <= t.seq < base + SEQ_BLOCK] if plan else []
    return max(used) + 1 if used else base


def carried_rules(touches: Iterable[Touch], rules: list[RuleHit]) -> list[RuleHit]:
    """Audit entries for touches a revision keeps from an earlier decision, one per rule."""
    have = {hit.rule_id for hit in rules}
    counts: dict[str, int] = {}
    for touch in touches:
        if touch.rule_id not in have:
            counts[touch.rule_id] = counts.get(touch.rule_id, 0) + 1
    return [RuleHit(rule, {"carried_over": n}) for rule, n in counts.items()]


def amount_of(event: RejectionEvent, earlier: tuple[RejectionEvent, ...]) -> float | None:
    """The deal's worth: this event's amount, else the last one known."""
    if event.amount is not None:
        return event.amount
    return next((e.amount for e in reversed(earlier) if e.amount is not None), None)


def offered_releases(plan: Plan | None, made_until: date) -> frozenset[str]:
    """Subjects of release touches of the live plan that were already materialised."""
    if plan is None:
        return frozenset()
    return frozenset(
        t.subject for t in plan.touches if t.kind is TouchKind.RELEASE and t.due <= made_until
    )


def entry_point_suggestion(
    prospect: Prospect,
    event: RejectionEvent,
    history: History,
    known: KnownTouches,
    today: date,
    cfg: PolicyConfig,
) -> Suggestion | None:
    """Colleagues to suggest, unless suggested recently; never people touched recently."""
    if not history.colleagues or prospect.account is None:
        return None
    since = today - timedelta(days=cfg.entry_points.repeat_after_days)
    if any(r.kind is TouchKind.ENTRY_POINT and r.due >= since for r in known.person):
        return None
    excluded = {p.ref.key for p in event.related}
    excluded.update(r.prospect_key for r in known.account if r.due >= since)
    return suggest_colleagues(
        prospect, prospect.account.employees, history.colleagues, frozenset(excluded), cfg
    )


def angles_for(
    prospect: Prospect, releases: tuple[PreparedRelease, ...], after: date, cfg: PolicyConfig
) -> Angles:
    return Angles(
        releases=tuple(r for r in releases if r.release.date > after),
        cross_sell=cross_sell(prospect.account, cfg),
        case_study=case_study_hint(prospect.account),
    )


def brief_facts(
    *,
    event: RejectionEvent,
    prospect: Prospect,
    rejected_on: date,
    reason: ReasonKind,
    competitor: str | None,
    earlier: tuple[RejectionEvent, ...],
    known: KnownTouches,
    today: date,
    history: History,
    suggestion: Suggestion | None,
    angles: Angles,
    cfg: PolicyConfig,
) -> briefs.BriefFacts:
    earlier_reason = resolve_reason(earlier[-1], cfg)[0] if earlier else None
    return briefs.BriefFacts(
        event=event,
        prospect=prospect,
        account=prospect.account,
        rejected_on=rejected_on,
        reason=reason,
        competitor=competitor,
        earlier=earlier,
        earlier_reason=earlier_reason,
        touches=known.person,
        today=today,
        colleagues=tuple(c for c in history.colleagues if c.ref != prospect.ref),
        suggested=suggestion.colleagues if suggestion else (),
        angles=angles,
    )
