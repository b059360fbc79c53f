"""Call-back and acknowledgement dates, rule by rule, with the dates written out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from syncd.model import History, Intent, Outcome, ReasonKind, TaskChannel, TouchKind, TouchRecord
from syncd.policy import PolicyConfig, decide
from tests.unit.policy.factories import NOW, account, lost_deal, of_kind, person, reply

# NOW is Tuesday 2024-03-12 15:30 UTC (16:30 in Berlin); the no came two hours earlier.
DE = account(country="DE")
DEFAULTS = PolicyConfig()


def callback_of(cfg: PolicyConfig = DEFAULTS, now: datetime = NOW, **deal: Any) -> date:
    decision = decide(lost_deal(**deal), History(), cfg, now)
    assert decision.outcome is Outcome.NURTURE
    assert decision.plan is not None and decision.plan.callback_on is not None
    return decision.plan.callback_on


@pytest.mark.parametrize(
    ("deal", "expected", "rule"),
    [
        # base: 182 days, Tuesday to Tuesday
        ({"reason_raw": "Not interested"}, date(2024, 9, 10), "callback.base"),
        ({"reason_raw": "UNQUALIFIED"}, date(2024, 9, 10), "callback.base"),
        # hostile no: still the base call-back
        (
            {"reason_raw": "Not interested", "reason": ReasonKind.HOSTILE},
            date(2024, 9, 10),
            "callback.hostile",
        ),
        # not now without a date: 90 days
        ({"reason_raw": "BAD_TIMING"}, date(2024, 6, 10), "callback.not_now"),
        # no decision / went dark: 90 days
        ({"reason_raw": "No Decision / Non-Responsive"}, date(2024, 6, 10), "callback.no_decision"),
        # a stated date wins over the reason; Sunday 15 September moves to Monday
        (
            {"reason_raw": "BAD_TIMING", "stated_date": date(2024, 9, 15)},
            date(2024, 9, 16),
            "callback.stated_date",
        ),
        # a stated date already past is ignored: the reason decides
        (
            {"reason_raw": "BAD_TIMING", "stated_date": date(2024, 1, 15)},
            date(2024, 6, 10),
            "callback.not_now",
        ),
        # budget: next fiscal year, 1 January 2025 is a public holiday in Germany -> 2 January
        ({"reason_raw": "Price"}, date(2025, 1, 2), "callback.budget.fiscal"),
        # competitor: 12-month contract renews 2025-03-12, call 60 days before (a Saturday)
        ({"reason_raw": "Lost to Competitor"}, date(2025, 1, 13), "callback.competitor.renewal"),
        # the term they stated: a 2-year contract, renewal 2026-03-12 - 60 days = Sunday
        (
            {"reason_raw": "Lost to Competitor", "quote": "We signed a 2-year contract."},
            date(2026, 1, 12),
            "callback.competitor.renewal",
        ),
        # product gap without a release answering it: the base interval
        ({"reason_raw": "Missing feature"}, date(2024, 9, 10), "callback.product_gap.base"),
    ],
)
def test_call_back_date_by_reason(deal: dict[str, Any], expected: date, rule: str) -> None:
    """Each reason's call-back lands on its documented business day."""
    who = person(acct=DE)
    decision = decide(lost_deal(who=who, **deal), History(), PolicyConfig(), NOW)
    assert decision.plan is not None and decision.plan.callback_on == expected
    assert rule in [h.rule_id for h in decision.rules]
    assert of_kind(decision, TouchKind.CALLBACK)[0].rule_id == rule


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (250_000.0, date(2024, 6, 11)),  # x0.5: 91 days
        (30_000.0, date(2024, 7, 29)),  # x0.75: 137 days is Saturday 27 July -> Monday
        (10_000.0, date(2024, 9, 10)),  # no tier: 182 days
        (2_000.0, date(2024, 12, 10)),  # x1.5: 273 days
    ],
)
def test_worth_tiers_scale_the_interval(amount: float, expected: date) -> None:
    """Bigger deals are called back sooner, small ones later, on a business day."""
    assert callback_of(amount=amount, reason_raw="Not interested") == expected


def test_worth_scaled_interval_is_clamped_to_the_minimum() -> None:
    """90 days x 0.25 would be 23 days; the clamp keeps it at 45 (Friday 26 April)."""
    cfg = PolicyConfig(callback={"worth_tiers": [{"at_least": 100_000, "factor": 0.25}]})
    assert callback_of(cfg, amount=500_000.0, reason_raw="BAD_TIMING") == date(2024, 4, 26)


def test_worth_scaled_interval_is_clamped_to_the_maximum() -> None:
    """300 days x 1.5 would be 450; the clamp stops at 365 days (Wednesday 12 March 2025)."""
    cfg = PolicyConfig(callback={"base_days": 300})
    assert callback_of(cfg, amount=1_000.0) == date(2025, 3, 12)


def test_a_public_holiday_of_the_account_country_is_skipped() -> None:
    """182 days after 4 April 2024 is 3 October: German Unity Day in DE, a workday in the US."""
    at = datetime(2024, 4, 4, 9, 0, tzinfo=UTC)
    german = callback_of(now=at + timedelta(hours=1), at=at, who=person(acct=account(country="DE")))
    american = callback_of(
        now=at + timedelta(hours=1),
        at=at,
        who=person(acct=account(country="US"), tz="America/New_York"),
    )
    assert german == date(2024, 10, 4)
    assert american == date(2024, 10, 3)


def test_a_country_stored_by_name_gets_its_holidays() -> None:
    """ "Germany" in the CRM means German holidays: Easter Monday moves the fiscal-year call."""
    cfg = PolicyConfig(callback={"fiscal_year_start_month": 4})
    who = person(acct=account(country="Germany"))
    assert callback_of(cfg, who=who, reason_raw="No budget") == date(2024, 4, 2)


def test_budget_waits_for_the_next_fiscal_quarter_when_configured() -> None:
    """With quarterly budgets the call comes at the next quarter: 1 July (a Monday)."""
    cfg = PolicyConfig(callback={"budget_period": "quarter", "fiscal_year_start_month": 4})
    at = datetime(2024, 4, 15, 9, 0, tzinfo=UTC)
    assert callback_of(cfg, now=at, at=at, reason_raw="Price") == date(2024, 7, 1)


def test_the_owner_time_zone_decides_which_day_today_is() -> None:
    """At 23:30 UTC on Thursday it is Friday morning in Tokyo and Thursday in Los Angeles."""
    at = datetime(2024, 3, 7, 23, 0, tzinfo=UTC)
    now = datetime(2024, 3, 7, 23, 30, tzinfo=UTC)
    plans = {}
    for tz in ("Asia/Tokyo", "America/Los_Angeles"):
        who = person(acct=account(country=None), tz=tz)
        plans[tz] = decide(lost_deal(who=who, at=at), History(), PolicyConfig(), now).plan
    tokyo, los_angeles = plans["Asia/Tokyo"], plans["America/Los_Angeles"]
    assert tokyo is not None and los_angeles is not None
    assert [t.due for t in tokyo.touches if t.kind is TouchKind.THANK_YOU] == [date(2024, 3, 11)]
    assert [t.due for t in los_angeles.touches if t.kind is TouchKind.THANK_YOU] == [
        date(2024, 3, 8)
    ]
    assert tokyo.callback_on == date(2024, 9, 6)  # their no was on Friday 8 March
    assert los_angeles.callback_on == date(2024, 9, 5)  # and on Thursday 7 March there


def test_an_unknown_time_zone_falls_back_to_the_default_and_says_so() -> None:
    """A misspelt owner zone uses [policy.calendar] default_timezone and is audited."""
    who = person(tz="Europe/Berlinn")
    decision = decide(lost_deal(who=who), History(), PolicyConfig(), NOW)
    assert decision.outcome is Outcome.NURTURE
    assert "calendar.timezone_unknown" in [h.rule_id for h in decision.rules]


def test_acknowledgement_comes_the_next_business_day() -> None:
    """A no on Friday is acknowledged on Monday; on Tuesday, on Wednesday."""
    friday = datetime(2024, 3, 15, 14, 0, tzinfo=UTC)
    on_friday = decide(lost_deal(at=friday), History(), PolicyConfig(), friday)
    on_tuesday = decide(lost_deal(), History(), PolicyConfig(), NOW)
    assert [t.due for t in of_kind(on_friday, TouchKind.THANK_YOU)] == [date(2024, 3, 18)]
    assert [t.due for t in of_kind(on_tuesday, TouchKind.THANK_YOU)] == [date(2024, 3, 13)]


def test_the_call_back_never_shares_a_day_with_another_touch_to_that_person() -> None:
    """A touch already planned on the call-back day pushes the call to the next business day."""
    who = person()
    busy = TouchRecord(TouchKind.CASE_STUDY, TaskChannel.EMAIL, date(2024, 9, 10), who.ref.key)
    history = History(prospect=who, touches=(busy,), account_touches=(busy,))
    decision = decide(lost_deal(who=who), history, PolicyConfig(), NOW)
    assert decision.plan is not None and decision.plan.callback_on == date(2024, 9, 11)
    assert "cadence.same_day" in [h.rule_id for h in decision.rules]


def test_competitor_gets_an_early_check_in_at_ninety_days() -> None:
    """ "How is it going with Globex?" 90 days after the no: Monday 10 June."""
    decision = decide(
        lost_deal(reason_raw="Lost to Competitor", competitor="Globex"),
        History(),
        PolicyConfig(),
        NOW,
    )
    check_ins = of_kind(decision, TouchKind.CHECK_IN)
    assert [t.due for t in check_ins] == [date(2024, 6, 10)]
    assert "Globex" in check_ins[0].subject


def test_a_reply_saying_not_now_with_a_month_is_called_back_then() -> None:
    """The classifier's follow-up-after date from "after our audit in March" is the call-back."""
    event = reply(Intent.NOT_NOW, followup_after=date(2025, 3, 3))
    decision = decide(event, History(), PolicyConfig(), NOW)
    assert decision.plan is not None and decision.plan.callback_on == date(2025, 3, 3)
