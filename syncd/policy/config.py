"""The `[policy]` section: every tunable of POLICY.md, with POLICY.md's defaults.

Admins tune these in the TOML file; nothing here needs to be set for a working policy. The
model is frozen and rejects unknown keys, so a typo fails `syncd check-config` instead of
silently changing who gets called. Values that `decide` needs in a prepared form (case-folded
sets, the reason lookup, release matchers) are computed once here, in `prepared`, so the hot
path never re-normalises config text.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from syncd.config_checks import check_country, check_timezone
from syncd.model import Channel, ReasonKind, TouchKind
from syncd.policy.defaults import (
    DEFAULT_COUNTRY_ALIASES,
    DEFAULT_DRAFT,
    DEFAULT_REASON_KEYWORDS,
    DEFAULT_REASON_VALUES,
)
from syncd.policy.prepared import Prepared

NURTURE_KINDS: frozenset[TouchKind] = frozenset(
    {
        TouchKind.INSIGHT_EMAIL,
        TouchKind.LINKEDIN,
        TouchKind.CASE_STUDY,
        TouchKind.PRODUCT_UPDATE,
        TouchKind.HANDWRITTEN_NOTE,
        TouchKind.CALL,
    }
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


MAX_DAYS = 3650  # ten years: any period longer is a typo, and would overflow date arithmetic


class CustomPredicate(_Frozen):
    """One ICP test on a custom account field, e.g. `Segment__c in ["SMB", "Mid-Market"]`."""

    field: str = Field(min_length=1)
    op: Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "contains", "exists"]
    value: str | float | bool | list[str | float] | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> CustomPredicate:
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs a list value")
        if self.op in ("lt", "le", "gt", "ge") and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float)
        ):
            raise ValueError(f"op {self.op!r} needs a number value")
        if self.op not in ("exists",) and self.value is None:
            raise ValueError(f"op {self.op!r} needs a value")
        return self


class IcpConfig(_Frozen):
    """The ideal customer profile; empty lists and unset bounds accept anything.

    Missing account data is "unknown", not "no fit": `unknown_is_fit` says how it counts.
    """

    min_employees: int | None = Field(default=None, ge=0, le=10_000_000)
    max_employees: int | None = Field(default=None, ge=0, le=10_000_000)
    min_revenue: float | None = Field(default=None, ge=0)
    max_revenue: float | None = Field(default=None, ge=0)
    industries: list[str] = Field(default_factory=list)
    excluded_industries: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    excluded_countries: list[str] = Field(default_factory=list)
    custom: list[CustomPredicate] = Field(default_factory=list)
    unknown_is_fit: bool = True
    # A rep's "not a fit" loss reason ends the follow-up too (the ICP alone decides when False).
    trust_crm_not_a_fit: bool = False

    @model_validator(mode="after")
    def _ranges_in_order(self) -> IcpConfig:
        for low, high in (("min_employees", "max_employees"), ("min_revenue", "max_revenue")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} ({lo}) is above {high} ({hi}): nobody would fit")
        return self


class ReasonsConfig(_Frozen):
    """CRM loss-reason / lead-status text -> policy reason.

    `values` match the whole value, `keywords` a part of it (longest keyword first); both
    ignore case and `_ - /` separators. Unmatched values fall back to `fallback`.
    """

    values: dict[str, ReasonKind] = Field(default_factory=lambda: dict(DEFAULT_REASON_VALUES))
    keywords: dict[str, ReasonKind] = Field(default_factory=lambda: dict(DEFAULT_REASON_KEYWORDS))
    fallback: ReasonKind = ReasonKind.OTHER


class WorthTier(_Frozen):
    """Scale the call-back interval for deals of this size (first matching tier wins)."""

    at_least: float | None = Field(default=None, ge=0)
    below: float | None = Field(default=None, ge=0)
    factor: float = Field(gt=0)

    @model_validator(mode="after")
    def _has_bound(self) -> WorthTier:
        if self.at_least is None and self.below is None:
            raise ValueError("a worth tier needs `at_least` or `below`")
        return self

    @model_validator(mode="after")
    def _range_in_order(self) -> WorthTier:
        if self.at_least is not None and self.below is not None and self.at_least >= self.below:
            raise ValueError("at_least must be below `below`: no deal would match this tier")
        return self

    def matches(self, amount: float) -> bool:
        return (self.at_least is None or amount >= self.at_least) and (
            self.below is None or amount < self.below
        )


_DEFAULT_TIERS = [
    WorthTier(at_least=100_000, factor=0.5),
    WorthTier(at_least=25_000, factor=0.75),
    WorthTier(below=5_000, factor=1.5),
]


class CallbackConfig(_Frozen):
    """When to call back, by reason and by potential worth (days are calendar days)."""

    base_days: int = Field(default=182, ge=1, le=MAX_DAYS)
    not_now_days: int = Field(default=90, ge=1, le=MAX_DAYS)
    no_decision_days: int = Field(default=90, ge=1, le=MAX_DAYS)
    worth_tiers: list[WorthTier] = Field(default_factory=lambda: list(_DEFAULT_TIERS))
    min_days: int = Field(default=45, ge=1, le=MAX_DAYS)
    max_days: int = Field(default=365, ge=1, le=MAX_DAYS)
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    fiscal_year_start_day: int = Field(default=1, ge=1, le=28)
    budget_period: Literal["year", "quarter"] = "year"
    competitor_check_in_days: int = Field(default=90, ge=1, le=MAX_DAYS)
    competitor_contract_months: int = Field(default=12, ge=1, le=120)
    competitor_renewal_lead_days: int = Field(default=60, ge=0, le=MAX_DAYS)

    @model_validator(mode="after")
    def _clamp_order(self) -> CallbackConfig:
        if self.min_days > self.max_days:
            raise ValueError("min_days must not exceed max_days")
        return self


class CadenceConfig(_Frozen):
    """Gentle multi-channel nurture between the acknowledgement and the call-back."""

    steps: list[TouchKind] = Field(
        default_factory=lambda: [
            TouchKind.INSIGHT_EMAIL,
            TouchKind.LINKEDIN,
            TouchKind.HANDWRITTEN_NOTE,  # early: high-worth deals have short cycles
            TouchKind.CASE_STUDY,
            TouchKind.CALL,
            TouchKind.PRODUCT_UPDATE,
        ]
    )
    interval_days: int = Field(default=30, ge=1, le=MAX_DAYS)  # aimed spacing of nurture touches
    min_gap_days: int = Field(
        default=21, ge=1, le=MAX_DAYS
    )  # between nurture touches to one person
    max_per_person: int = Field(default=2, ge=1)
    person_window_days: int = Field(default=30, ge=1, le=MAX_DAYS)
    max_per_account: int = Field(default=3, ge=1)
    account_window_days: int = Field(default=7, ge=1, le=MAX_DAYS)
    max_nurture_per_cycle: int = Field(default=8, ge=0)
    handwritten_note_min_amount: float = Field(default=25_000, ge=0)
    # Also add nurtured prospects to the CRM's nurture list / campaign (the sink's), on top
    # of the touches above. Its mailings follow the campaign's own schedule, not these caps.
    enrol: bool = False

    @field_validator("steps")
    @classmethod
    def _only_nurture_steps(cls, steps: list[TouchKind]) -> list[TouchKind]:
        wrong = [s.value for s in steps if s not in NURTURE_KINDS]
        if wrong:
            allowed = ", ".join(sorted(k.value for k in NURTURE_KINDS))
            raise ValueError(f"not nurture steps: {wrong}; allowed: {allowed}")
        return steps


class SuppressConfig(_Frozen):
    """`[policy.suppress]`: what a full opt-out means.

    Someone who opted out of every channel in `full_opt_out` (default e-mail and phone) asked
    to be left alone: with `all` on (the default) they get no LinkedIn or postal touch either,
    since reaching around their wish would read as evasion. With `all` off, only the channels
    they opted out of are closed. Either way colleagues at the account may still be suggested.
    """

    all: bool = True
    full_opt_out: frozenset[Channel] = frozenset({Channel.EMAIL, Channel.PHONE})

    @field_validator("full_opt_out")
    @classmethod
    def _some(cls, channels: frozenset[Channel]) -> frozenset[Channel]:
        if not channels:
            raise ValueError('name at least one channel, e.g. ["email", "phone"]')
        return channels


class EntryPointConfig(_Frozen):
    """Other ways into an account: colleagues, the top of a small company, the gatekeeper."""

    large_account_min_employees: int = Field(default=500, ge=1)
    small_account_below_employees: int = Field(default=50, ge=1)
    max_suggestions: int = Field(default=3, ge=0)
    delay_days: int = Field(default=14, ge=0, le=MAX_DAYS)
    repeat_after_days: int = Field(
        default=180, ge=0, le=MAX_DAYS
    )  # don't re-suggest within this period
    executive_titles: list[str] = Field(
        default_factory=lambda: [
            "owner",
            "ceo",
            "chief executive",
            "founder",
            "co-founder",
            "president",
            "managing director",
            "geschäftsführer",
            "gérant",
            "président",
            "director general",
            "directora general",
        ]
    )
    gatekeeper_titles: list[str] = Field(
        default_factory=lambda: [
            "assistant",
            "receptionist",
            "reception",
            "secretary",
            "office manager",
            "front desk",
        ]
    )
    gatekeeper_delay_days: int = Field(default=7, ge=0, le=MAX_DAYS)
    referral_delay_business_days: int = Field(default=1, ge=0, le=MAX_DAYS)


class ProductLine(_Frozen):
    """Something the account could buy besides what it was offered: a cross-sell angle."""

    name: str = Field(min_length=1)
    pitch: str = ""


class Release(_Frozen):
    """A shipped (or dated) release and the reasons or tags it answers."""

    date: dt.date
    title: str = Field(min_length=1, max_length=120)
    reasons: list[ReasonKind] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    proof_point: str = ""

    @model_validator(mode="after")
    def _addresses_something(self) -> Release:
        if not self.reasons and not self.tags:
            raise ValueError("a release needs `reasons` or `tags` it addresses")
        return self


class CalendarConfig(_Frozen):
    """Business days: the owner's time zone, the account country's public holidays."""

    default_timezone: str = "UTC"  # when the owner has none
    weekend: list[int] = Field(default_factory=lambda: [5, 6])  # Monday is 0
    extra_holidays: list[dt.date] = Field(default_factory=list)  # company-wide days off
    country_aliases: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_COUNTRY_ALIASES))

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        return check_timezone(name)

    @field_validator("country_aliases")
    @classmethod
    def _alias_codes(cls, aliases: dict[str, str]) -> dict[str, str]:
        for name, code in aliases.items():
            if not (len(code) == 2 and code.isalpha()):
                raise ValueError(f"{name!r} maps to {code!r}: aliases map to ISO 3166-1 codes")
            check_country(code)
        return aliases

    @field_validator("weekend")
    @classmethod
    def _weekday_numbers(cls, days: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in days) or len(set(days)) > 5:
            raise ValueError("weekend days are 0 (Monday) to 6 (Sunday), at most five")
        return days


class BriefConfig(_Frozen):
    """Limits of the rep's brief (the sinks' field limits) and the thank-you draft text."""

    max_chars: int = Field(default=32_000, ge=500, le=65_000)  # Salesforce Description
    subject_max_chars: int = Field(default=255, ge=20, le=255)
    quote_max_chars: int = Field(default=600, ge=0, le=5_000)
    # A review task quotes the reply's new text up to this length: the rep decides on it.
    review_quote_max_chars: int = Field(default=2_000, ge=200, le=10_000)
    max_colleagues: int = Field(default=5, ge=0)
    # {first_name_sp} is " Jane" or "" so "Hi{first_name_sp}," reads well either way.
    draft_template: str = DEFAULT_DRAFT

    @field_validator("draft_template")
    @classmethod
    def _known_placeholders(cls, template: str) -> str:
        try:
            template.format(first_name_sp=" X", first_name="X", account="X")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                "draft_template may use only {first_name_sp}, {first_name}, {account}"
            ) from exc
        return template


class PolicyConfig(_Frozen):
    """The `[policy]` section."""

    horizon_days: int = Field(
        default=7, ge=0, le=MAX_DAYS
    )  # materialise touches due within this many days
    ack_delay_business_days: int = Field(default=1, ge=0, le=MAX_DAYS)
    ack_max_age_days: int = Field(
        default=14, ge=0, le=MAX_DAYS
    )  # older rejections (backfill): no thank-you
    icp: IcpConfig = IcpConfig()
    reasons: ReasonsConfig = ReasonsConfig()
    callback: CallbackConfig = CallbackConfig()
    cadence: CadenceConfig = CadenceConfig()
    entry_points: EntryPointConfig = EntryPointConfig()
    suppress: SuppressConfig = SuppressConfig()
    calendar: CalendarConfig = CalendarConfig()
    brief: BriefConfig = BriefConfig()
    product_lines: list[ProductLine] = Field(default_factory=list)
    releases: list[Release] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_countries(self) -> PolicyConfig:
        aliases = {
            " ".join(k.casefold().split()): v for k, v in self.calendar.country_aliases.items()
        }
        for key in ("countries", "excluded_countries"):
            for value in getattr(self.icp, key):
                try:
                    check_country(value, aliases)
                except ValueError as exc:
                    raise ValueError(f"icp.{key}: {exc}") from None
        return self

    @field_validator("releases")
    @classmethod
    def _unique_titles(cls, releases: list[Release]) -> list[Release]:
        titles = [r.title.casefold() for r in releases]
        if len(set(titles)) != len(titles):
            raise ValueError("release titles must be unique (they identify the release)")
        return releases

    def model_post_init(self, context: Any, /) -> None:
        _ = self.prepared  # build it now: config problems surface at load, not mid-cycle

    @cached_property
    def prepared(self) -> Prepared:
        """The config in the hot path's shape (not a field: never dumped or compared)."""
        return Prepared.build(self)
