"""When to call back: by what they said, by why they said no, by what the deal was worth.

The dates here are wishes in calendar days; `cadence.Scheduler` then moves them onto the
owner's business days and around the frequency caps. A call-back is always strictly after
`earliest` (the acknowledgement, or today), so every plan ends in a future call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from syncd.model import ReasonKind, RuleHit
from syncd.policy.config import PolicyConfig
from syncd.policy.prepared import PreparedRelease

_TERM_CONTEXT = re.compile(
    r"contract|term|agreement|deal|signed|renew|vertrag|laufzeit|contrat|contrato|acuerdo",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    "one": 1, "a": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "ein": 1, "einen": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5,
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
    "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
}  # fmt: skip
_TERM = re.compile(
    r"\b(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")[\s-]*"
    r"(months?|monate?n?|mois|mes(?:es)?|years?|jahre?n?|jährig\w*|ans?|années?|años?)\b",
    re.IGNORECASE,
)


def contract_term_months(text: str | None) -> int | None:
    """A contract term stated in their words ("we signed a 2-year deal"), in months."""
    if not text or not _TERM_CONTEXT.search(text):
        return None
    match = _TERM.search(text)
    if match is None:
        return None
    count_text, unit = match.group(1).lower(), match.group(2).lower()
    count = int(count_text) if count_text.isdigit() else _NUMBER_WORDS[count_text]
    months = count if unit.startswith(("mo", "mes")) else count * 12
    return months if 1 <= months <= 120 else None


@dataclass(slots=True)
class Timing:
    """The wished call-back (and competitor check-in) before business-day placement."""

    callback: date
    rule_id: str
    why: str  # for the rep's brief: why the call is on this date
    hits: tuple[RuleHit, ...]
    check_in: date | None = None
    release: PreparedRelease | None = None


def worth_days(days: int, amount: float | None, cfg: PolicyConfig) -> tuple[int, list[RuleHit]]:
    """Scale an interval by the deal's worth, then clamp it to [min_days, max_days]."""
    cb = cfg.callback
    hits: list[RuleHit] = []
    scaled = days
    if amount is not None:
        for index, tier in enumerate(cb.worth_tiers):
            if tier.matches(amount):
                scaled = int(days * tier.factor + 0.5)  # half up: 136.5 days is 137
                hits.append(
                    RuleHit(
                        "worth.tier",
                        {"amount": amount, "tier": index, "factor": tier.factor, "days": scaled},
                    )
                )
                break
    clamped = min(max(scaled, cb.min_days), cb.max_days)
    if clamped != scaled:
        hits.append(
            RuleHit(
                "worth.clamp",
                {"days": scaled, "clamped": clamped, "min": cb.min_days, "max": cb.max_days},
            )
        )
    return clamped, hits


def next_fiscal_start(after: date, cfg: PolicyConfig) -> date:
    """The first day of the next fiscal period (year or quarter) strictly after `after`."""
    cb = cfg.callback
    step = 3 if cb.budget_period == "quarter" else 12
    return _fiscal_start(after, step, cb.fiscal_year_start_month, cb.fiscal_year_start_day)


@lru_cache(maxsize=4096)
def _fiscal_start(after: date, step_months: int, month: int, day: int) -> date:
    """Remembered: month arithmetic is slow and the same few dates come up all day."""
    start = date(after.year - 1, month, day)
    while start <= after:
        start += relativedelta(months=step_months)
    return start


def _interval(
    rule_id: str,
    days: int,
    why: str,
    rejected_on: date,
    earliest: date,
    amount: float | None,
    cfg: PolicyConfig,
    extra: dict[str, object],
) -> Timing:
    scaled, hits = worth_days(days, amount, cfg)
    anchor = rejected_on
    if rejected_on + timedelta(days=scaled) <= earliest:
        # A rejection read long after it happened (a backfill): count from now instead.
        anchor = earliest
        hits.append(RuleHit("callback.rebased", {"rejected_on": rejected_on.isoformat()}))
    callback = anchor + timedelta(days=scaled)
    hits.insert(0, RuleHit(rule_id, {"days": days, "scaled_days": scaled, **extra}))
    return Timing(callback, rule_id, why.format(days=scaled), tuple(hits))


def callback_timing(
    *,
    reason: ReasonKind,
    rejected_on: date,
    earliest: date,
    stated: date | None,
    amount: float | None,
    competitor: str | None,
    term_text: str | None,
    releases: tuple[PreparedRelease, ...],
    cfg: PolicyConfig,
) -> Timing:
    """The call-back for a fresh "no", rule by rule as POLICY.md lists them."""
    cb = cfg.callback
    if stated is not None:
        if stated > earliest:
            hit = RuleHit("callback.stated_date", {"stated": stated.isoformat()})
            return Timing(
                stated,
                "callback.stated_date",
                f"They asked to be contacted around {stated.isoformat()}.",
                (hit,),
            )
        past = RuleHit("callback.stated_date.past", {"stated": stated.isoformat()})
        timing = callback_timing(
            reason=reason,
            rejected_on=rejected_on,
            earliest=earliest,
            stated=None,
            amount=amount,
            competitor=competitor,
            term_text=term_text,
            releases=releases,
            cfg=cfg,
        )
        return Timing(
            timing.callback,
            timing.rule_id,
            timing.why,
            (past, *timing.hits),
            timing.check_in,
            timing.release,
        )
    if reason is ReasonKind.NOT_NOW:
        return _interval(
            "callback.not_now",
            cb.not_now_days,
            "They said not now; {days} days on is a fair time to ask again.",
            rejected_on,
            earliest,
            amount,
            cfg,
            {},
        )
    if reason is ReasonKind.BUDGET:
        start = next_fiscal_start(max(rejected_on, earliest), cfg)
        hit = RuleHit(
            "callback.budget.fiscal",
            {
                "period": cb.budget_period,
                "fiscal_year_start": f"{cb.fiscal_year_start_month:02d}-"
                f"{cb.fiscal_year_start_day:02d}",
                "starts": start.isoformat(),
            },
        )
        why = f"No budget then; their next fiscal {cb.budget_period} starts {start.isoformat()}."
        return Timing(start, "callback.budget.fiscal", why, (hit,))
    if reason is ReasonKind.COMPETITOR:
        return _competitor(rejected_on, earliest, competitor, term_text, cfg)
    if reason is ReasonKind.PRODUCT_GAP:
        for prepared in releases:
            shipped = prepared.release.date
            if shipped > rejected_on and shipped > earliest:
                hit = RuleHit(
                    "callback.product_gap.release",
                    {"release": prepared.release.title, "date": shipped.isoformat()},
                )
                why = f"The release “{prepared.release.title}” answers what they missed."
                return Timing(shipped, "callback.product_gap.release", why, (hit,), None, prepared)
        return _interval(
            "callback.product_gap.base",
            cb.base_days,
            "No release answers their gap yet; {days} days on, the product has moved.",
            rejected_on,
            earliest,
            amount,
            cfg,
            {"releases_considered": len(releases)},
        )
    if reason is ReasonKind.NO_DECISION:
        return _interval(
            "callback.no_decision",
            cb.no_decision_days,
            "No decision was made; {days} days on, things may have moved.",
            rejected_on,
            earliest,
            amount,
            cfg,
            {},
        )
    if reason is ReasonKind.HOSTILE:
        return _interval(
            "callback.hostile",
            cb.base_days,
            "A hard no is still a not-now while they fit the profile; call again after {days} "
            "days.",
            rejected_on,
            earliest,
            amount,
            cfg,
            {},
        )
    return _interval(
        "callback.base",
        cb.base_days,
        "{days} days after their no, the timing may be right.",
        rejected_on,
        earliest,
        amount,
        cfg,
        {"reason": reason.value},
    )


def _competitor(
    rejected_on: date,
    earliest: date,
    competitor: str | None,
    term_text: str | None,
    cfg: PolicyConfig,
) -> Timing:
    cb = cfg.callback
    stated_term = contract_term_months(term_text)
    term = stated_term or cb.competitor_contract_months
    renewal = _first_renewal(rejected_on, term, cb.competitor_renewal_lead_days, earliest)
    callback = renewal - timedelta(days=cb.competitor_renewal_lead_days)
    name = competitor or "the competitor"
    hits = [
        RuleHit(
            "callback.competitor.renewal",
            {
                "competitor": competitor,
                "term_months": term,
                "term_source": "stated" if stated_term else "default",
                "renewal": renewal.isoformat(),
                "lead_days": cb.competitor_renewal_lead_days,
            },
        )
    ]
    check_in: date | None = rejected_on + timedelta(days=cb.competitor_check_in_days)
    if check_in is not None and earliest < check_in < callback:
        hits.append(
            RuleHit(
                "callback.competitor.check_in",
                {"days": cb.competitor_check_in_days, "due": check_in.isoformat()},
            )
        )
    else:
        check_in = None
    why = (
        f"They chose {name}; the {term}-month contract renews around {renewal.isoformat()}, "
        f"so call {cb.competitor_renewal_lead_days} days before."
    )
    return Timing(callback, "callback.competitor.renewal", why, tuple(hits), check_in)


@lru_cache(maxsize=4096)
def _first_renewal(rejected_on: date, term_months: int, lead_days: int, earliest: date) -> date:
    """The first contract renewal whose lead time starts after `earliest` (remembered)."""
    renewals = 1
    renewal = rejected_on + relativedelta(months=term_months)
    while renewal - timedelta(days=lead_days) <= earliest:
        renewals += 1
        renewal = rejected_on + relativedelta(months=term_months * renewals)
    return renewal


def next_cycle_timing(
    last_callback: date, earliest: date, amount: float | None, cfg: PolicyConfig
) -> Timing:
    """A call-back passed without a new "no" or a yes: the cycle starts again, never stops."""
    return _interval(
        "cycle.restart",
        cfg.callback.base_days,
        "The last call-back brought no decision; {days} days on, the cycle starts again.",
        last_callback,
        earliest,
        amount,
        cfg,
        {"last_callback": last_callback.isoformat()},
    )
