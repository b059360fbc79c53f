"""Business days as the owner lives them: their time zone, the account country's holidays.

A touch due on a Saturday, on a public holiday of the prospect's country, or on a "today"
that is already tomorrow where the rep sits reads as careless. Holiday tables come from the
`holidays` package and are built once per (country, year): building one costs milliseconds,
looking a date up in the cached set costs nanoseconds, and the policy decides tens of
thousands of events a second.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

_ONE_DAY = timedelta(days=1)
# Bounds every forward search: a calendar with no business day in this long is a config error
# the validators already refuse (at most five weekend days), so the bound is never reached.
_MAX_SEARCH_DAYS = 3 * 366
_MEMO_LIMIT = 20_000  # remembered dates per calendar (a few years of look-ups)


@lru_cache(maxsize=512)
def zone(name: str) -> tzinfo | None:
    """The IANA zone, or None when the name is unknown (the caller falls back and says so)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=4096)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The country's public holidays in `year`; none for a country the package doesn't know."""
    try:
        table = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(table.keys())


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes from a connector are UTC by contract; make them comparable."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class Calendar:
    """One owner's working calendar for one account country.

    Instances are shared (see `calendar_of`) and remember the answers of `on_or_after`, the
    one question every placement asks many times.
    """

    __slots__ = ("_next", "country", "extra", "tz", "tz_name", "weekend")

    def __init__(
        self,
        tz: tzinfo,
        tz_name: str,
        country: str | None,
        weekend: frozenset[int],
        extra: frozenset[date],
    ) -> None:
        self.tz = tz
        self.tz_name = tz_name
        self.country = country
        self.weekend = weekend
        self.extra = extra
        self._next: dict[date, date] = {}

    def local_date(self, moment: datetime) -> date:
        """The owner's calendar date at `moment` (naive means UTC)."""
        return as_utc(moment).astimezone(self.tz).date()

    def is_business_day(self, day: date) -> bool:
        if day.weekday() in self.weekend or day in self.extra:
            return False
        return self.country is None or day not in public_holidays(self.country, day.year)

    def on_or_after(self, day: date) -> date:
        """The first business day on or after `day`."""
        known = self._next.get(day)
        if known is not None:
            return known
        found = day
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_business_day(found):
                break
            found += _ONE_DAY
        if len(self._next) >= _MEMO_LIMIT:
            self._next.clear()
        self._next[day] = found
        return found

    def add_business_days(self, day: date, count: int) -> date:
        """`count` business days after `day` (0: `day` itself if it is one, else the next)."""
        if count <= 0:
            return self.on_or_after(day)
        for _ in range(count):
            day = self.on_or_after(day + _ONE_DAY)
        return day


@lru_cache(maxsize=2048)
def calendar_of(
    tz_name: str, country: str | None, weekend: frozenset[int], extra: frozenset[date]
) -> Calendar | None:
    """The shared calendar for an owner's zone and an account country (None: unknown zone)."""
    tz = zone(tz_name)
    return None if tz is None else Calendar(tz, tz_name, country, weekend, extra)
