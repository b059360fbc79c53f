"""Hypothesis strategies: prospects, "no" events, histories and configs as a tenant has them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from syncd.model import (
    Account,
    AccountRef,
    Channel,
    History,
    Intent,
    Owner,
    Prospect,
    ProspectRef,
    ReasonKind,
    RejectionEvent,
    ReplyInfo,
    SourceKind,
    TaskChannel,
    TouchKind,
    TouchRecord,
)
from syncd.policy import PolicyConfig
from tests.unit.policy.factories import NOW

# Zones 26 hours apart: "today" differs from UTC's in both directions at some hours.
ZONES = ["Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati", "UTC"]
ZONES_WITH_TYPO = [*ZONES, "Europe/Berlinn"]
COUNTRIES = ["DE", "US", "FR", "GB", "JP", "ES", "Germany", None]
INDUSTRIES = ["Manufacturing", "Software", "Retail", "Gambling", None]
TITLES = ["CEO", "Founder", "Head of Operations", "CFO", "Executive Assistant", "Buyer", None]
DEPARTMENTS = ["Finance", "IT", "Operations", "Sales", "HR", None]
RAW_REASONS = [
    "Lost to Competitor",
    "Price",
    "No Decision / Non-Responsive",
    "BAD_TIMING",
    "Missing feature: SSO",
    "UNQUALIFIED",
    "Not interested",
    "something else",
    None,
]
NO_INTENTS = [Intent.NOT_NOW, Intent.NOT_INTERESTED, Intent.COMPETITOR, Intent.REFERRAL]

channel_sets = st.frozensets(st.sampled_from(list(Channel)))
# Mostly nobody opted out; sometimes some channels, rarely all.
NOBODY: frozenset[Channel] = frozenset()
opt_outs = st.one_of(st.just(NOBODY), st.just(NOBODY), channel_sets)


@st.composite
def accounts(draw: st.DrawFn, n: int = 1) -> Account:
    return Account(
        ref=AccountRef("crm", f"A{n:04d}"),
        name=f"Account {n}",
        employees=draw(st.one_of(st.none(), st.sampled_from([3, 30, 120, 800, 9000]))),
        annual_revenue=draw(st.one_of(st.none(), st.sampled_from([2e5, 3e6, 8e7]))),
        industry=draw(st.sampled_from(INDUSTRIES)),
        country=draw(st.sampled_from(COUNTRIES)),
        products_offered=draw(st.frozensets(st.sampled_from(["Analytics", "Payroll"]))),
    )


@st.composite
def prospects(
    draw: st.DrawFn, n: int = 1, account: Account | None = None, zones: list[str] = ZONES
) -> Prospect:
    return Prospect(
        ref=ProspectRef("crm", "contact", f"C{n:04d}"),
        account=account if account is not None else draw(accounts()),
        owner=Owner("U1", draw(st.sampled_from(zones))),
        email=f"p{n}@example.com",
        name=draw(st.sampled_from(["Ana Ruiz", "Jo Lee", None])),
        title=draw(st.sampled_from(TITLES)),
        department=draw(st.sampled_from(DEPARTMENTS)),
        opted_out=draw(opt_outs),
    )


def _day(draw: st.DrawFn, low: int, high: int) -> date:
    return NOW.date() + timedelta(days=draw(st.integers(low, high)))


@st.composite
def replies(draw: st.DrawFn, intents: list[Intent] | None = None) -> ReplyInfo:
    intent = draw(st.sampled_from(intents or list(Intent)))
    stated = NOW.date() + timedelta(days=150) if intent is Intent.NOT_NOW else None
    return ReplyInfo(
        intent=intent,
        message_id="<m@example.com>",
        thread_id="T1",
        subject="Re: hello",
        opt_out_channels=draw(channel_sets) if intent is Intent.OPT_OUT else frozenset(),
        return_date=_day(draw, -3, 40) if intent is Intent.OUT_OF_OFFICE else None,
        followup_after=draw(st.sampled_from([None, stated])),
        referral_email="p7@example.com" if intent is Intent.REFERRAL else None,
        competitor="Globex" if intent is Intent.COMPETITOR else None,
        auto_reply=intent is Intent.OUT_OF_OFFICE or draw(st.sampled_from([False, False, True])),
        gatekeeper=draw(st.sampled_from([False, False, True])),
        hostile=intent is Intent.NOT_INTERESTED and draw(st.booleans()),
        **draw(reviews(intent)),
    )


REVIEW_REASONS = ("low_confidence", "conflicting_cues", "no_cue", "opt_out_net", "model_disagrees")


@st.composite
def reviews(draw: st.DrawFn, intent: Intent) -> dict[str, Any]:
    """Sometimes the classifier is unsure: the reply goes to a person (about one in four)."""
    if not draw(st.sampled_from([False, False, False, True])):
        return {}
    reasons = draw(st.lists(st.sampled_from(REVIEW_REASONS), min_size=1, max_size=2, unique=True))
    return {
        "review": True,
        "review_reasons": tuple(reasons),
        "confidence": draw(st.sampled_from([0.2, 0.45, 0.6])),
        "text": draw(st.sampled_from(["", "Hm. Not sure. Remove? Maybe later.", "Ja, nein."])),
        "evidence": ("maybe later",) if intent is not Intent.OTHER else (),
    }


@st.composite
def events(
    draw: st.DrawFn,
    who: Prospect,
    n: int = 1,
    at: datetime | None = None,
    intents: list[Intent] | None = None,
) -> RejectionEvent:
    source = draw(st.sampled_from(list(SourceKind)))
    occurred = at or NOW - timedelta(minutes=draw(st.integers(0, 60 * 24 * 30)))
    return RejectionEvent(
        event_id=f"ev:{who.ref.id}:{n}",
        source=source,
        occurred_at=occurred,
        prospect=who,
        reason_raw=draw(st.sampled_from(RAW_REASONS)),
        reason=draw(st.one_of(st.none(), st.none(), st.sampled_from(list(ReasonKind)))),
        competitor=draw(st.sampled_from([None, None, "Globex"])),
        amount=draw(st.sampled_from([None, 2_000.0, 30_000.0, 250_000.0])),
        currency="EUR",
        stage=draw(st.sampled_from([None, "Negotiation"])),
        opportunity_id="OPP1" if source is SourceKind.OPPORTUNITY else None,
        stated_date=draw(st.one_of(st.none(), st.none(), st.just(_day(draw, -20, 300)))),
        quote=draw(st.sampled_from([None, "We signed a 2-year contract with Globex.", "No SSO."])),
        reply=draw(replies(intents)) if source is SourceKind.REPLY else None,
    )


@st.composite
def touch_records(draw: st.DrawFn, prospect_key: str, account_key: str | None) -> TouchRecord:
    return TouchRecord(
        kind=draw(st.sampled_from([TouchKind.INSIGHT_EMAIL, TouchKind.CALL, TouchKind.THANK_YOU])),
        channel=draw(st.sampled_from(list(TaskChannel))),
        due=_day(draw, -45, 20),
        prospect_key=prospect_key,
        account_key=account_key,
    )


@st.composite
def histories(draw: st.DrawFn, who: Prospect) -> History:
    """What the engine knows before the event: earlier nos, touches, colleagues (no live plan)."""
    account = who.account
    account_key = account.ref.key if account else None
    colleagues = [
        draw(prospects(n, account=account)) for n in range(2, 2 + draw(st.integers(0, 4)))
    ]
    mine = draw(st.lists(touch_records(who.ref.key, account_key), max_size=3))
    theirs = [
        draw(touch_records(c.ref.key, account_key)) for c in colleagues if draw(st.booleans())
    ]
    earlier = [
        RejectionEvent(
            f"old:{who.ref.id}:{k}",
            SourceKind.LEAD,
            NOW - timedelta(days=60 + 200 * k),
            who,
            reason_raw="BAD_TIMING",
        )
        for k in reversed(range(draw(st.integers(0, 2))))
    ]
    return History(
        prospect=who,
        rejections=tuple(earlier),
        touches=tuple(mine),
        account_touches=tuple(mine + theirs),
        suppressed=draw(opt_outs),
        active=draw(st.booleans()) and draw(st.booleans()),
        colleagues=tuple(colleagues),
    )


@st.composite
def configs(draw: st.DrawFn) -> PolicyConfig:
    icp: dict[str, Any] = {}
    if draw(st.booleans()):
        icp["min_employees"] = draw(st.sampled_from([10, 50]))
    if draw(st.booleans()):
        icp["max_employees"] = draw(st.sampled_from([1000, 10_000]))
    if draw(st.booleans()):
        icp["min_revenue"] = 1e6
    if draw(st.booleans()):
        icp["countries"] = draw(st.sampled_from([["DE", "FR"], ["US"], ["Germany", "GB"]]))
    if draw(st.booleans()):
        icp["excluded_industries"] = ["Gambling"]
    icp["unknown_is_fit"] = draw(st.booleans())
    cadence = {
        "max_per_person": draw(st.integers(1, 3)),
        "person_window_days": draw(st.sampled_from([14, 30])),
        "max_per_account": draw(st.integers(1, 4)),
        "account_window_days": draw(st.sampled_from([7, 10])),
        "min_gap_days": draw(st.sampled_from([7, 21])),
    }
    releases = [
        {"date": NOW.date() + timedelta(days=40), "title": "SSO", "tags": ["sso"]},
        {"date": NOW.date() + timedelta(days=100), "title": "Cheaper", "reasons": ["budget"]},
    ]
    cadence["enrol"] = draw(st.booleans())
    return PolicyConfig(
        icp=icp,
        cadence=cadence,
        releases=releases if draw(st.booleans()) else [],
        product_lines=[{"name": "Analytics"}, {"name": "Payroll"}],
    )
