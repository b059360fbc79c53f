"""The config in the shape the hot path wants, normalised once when the config loads.

`decide` runs tens of thousands of times a second; case-folding the ICP's industries or
compiling the title patterns on every call would cost more than the rules themselves.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from syncd.model import Channel, ReasonKind, TouchKind

if TYPE_CHECKING:
    from syncd.policy.config import PolicyConfig, ProductLine, Release

_SEPARATORS = re.compile(r"[\s_\-/]+")


@lru_cache(maxsize=65_536)
def normalise_text(value: str) -> str:
    """Case-fold and collapse separators: "Lost_to-Competitor " and "lost to competitor" match.

    Remembered: the same picklist values, departments and titles come back all day."""
    return _SEPARATORS.sub(" ", value.casefold()).strip()


@dataclass(frozen=True, slots=True)
class PreparedRelease:
    release: Release
    reasons: frozenset[ReasonKind]
    tags: tuple[str, ...]  # normalised


def _title_pattern(titles: list[str]) -> re.Pattern[str] | None:
    words = sorted({normalise_text(t) for t in titles if t.strip()}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")


@dataclass(frozen=True, slots=True)
class Prepared:
    """Config in the shape the hot path wants: normalised once at load."""

    industries: frozenset[str]
    excluded_industries: frozenset[str]
    countries: frozenset[str]
    excluded_countries: frozenset[str]
    reason_values: dict[str, ReasonKind]
    reason_keywords: tuple[tuple[str, ReasonKind], ...]
    country_aliases: dict[str, str]
    weekend: frozenset[int]
    extra_holidays: frozenset[dt.date]
    executive_titles: re.Pattern[str] | None
    gatekeeper_titles: re.Pattern[str] | None
    releases: tuple[PreparedRelease, ...]  # by date
    product_lines: tuple[tuple[str, ProductLine], ...]  # (normalised name, line)
    steps: tuple[TouchKind, ...]
    titles: dict[str, tuple[bool, bool]]  # title -> (executive, gatekeeper), filled as met
    # (open channels, high worth) -> the nurture orderings, filled as met (see cadence)
    nurture_orders: dict[tuple[frozenset[Channel], bool], tuple[tuple[TouchKind, ...], ...]]

    @staticmethod
    def build(cfg: PolicyConfig) -> Prepared:
        aliases = {normalise_text(k): v.upper() for k, v in cfg.calendar.country_aliases.items()}

        def country(value: str) -> str:
            return country_key(value, aliases)

        keywords = sorted(
            ((normalise_text(k), v) for k, v in cfg.reasons.keywords.items()),
            key=lambda kv: (-len(kv[0]), kv[0]),
        )
        releases = tuple(
            PreparedRelease(
                r, frozenset(r.reasons), tuple(normalise_text(t) for t in r.tags if t.strip())
            )
            for r in sorted(cfg.releases, key=lambda r: (r.date, r.title.casefold()))
        )
        return Prepared(
            industries=frozenset(normalise_text(i) for i in cfg.icp.industries),
            excluded_industries=frozenset(normalise_text(i) for i in cfg.icp.excluded_industries),
            countries=frozenset(country(c) for c in cfg.icp.countries),
            excluded_countries=frozenset(country(c) for c in cfg.icp.excluded_countries),
            reason_values={normalise_text(k): v for k, v in cfg.reasons.values.items()},
            reason_keywords=tuple(keywords),
            country_aliases=aliases,
            weekend=frozenset(cfg.calendar.weekend),
            extra_holidays=frozenset(cfg.calendar.extra_holidays),
            executive_titles=_title_pattern(cfg.entry_points.executive_titles),
            gatekeeper_titles=_title_pattern(cfg.entry_points.gatekeeper_titles),
            releases=releases,
            product_lines=tuple((normalise_text(p.name), p) for p in cfg.product_lines),
            steps=tuple(cfg.cadence.steps),
            titles={},
            nurture_orders={},
        )


def country_key(value: str, aliases: dict[str, str]) -> str:
    """The comparable form of a country: its code when known, else the normalised text."""
    return normalise_country(value, aliases) or normalise_text(value)


def normalise_country(value: str | None, aliases: dict[str, str]) -> str | None:
    """ISO 3166-1 alpha-2 when the value is a code or a known name, else None."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return aliases.get(normalise_text(text))
