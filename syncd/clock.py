"""The one clock syncd reads "now" from: the engine, the demo, previews and tests share it.

A clock is a function returning an aware UTC datetime. `system_clock` is the real one;
`fixed_clock` and `as_of_clock` stand still or run from another day, so `syncd plan --as-of`
and the tests see a chosen day without touching the host's time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock that always says `at` (made UTC if it has no zone)."""
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)

    def now() -> datetime:
        return moment

    return now


def as_of_clock(day: date, base: Clock = system_clock) -> Clock:
    """`base` moved to `day`: the same time of day, on that date (a preview of that day)."""

    def now() -> datetime:
        current = base()
        return datetime.combine(day, current.timetz())

    return now


def parse_as_of(text: str) -> date | datetime:
    """`2027-03-01` or `2027-03-01T09:00:00+00:00`; ValueError names the expected form."""
    try:
        if "T" in text or " " in text.strip():
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date: use YYYY-MM-DD (or an ISO 8601 date and time)"
        ) from None


def clock_for(as_of: date | datetime | None) -> Clock:
    if as_of is None:
        return system_clock
    if isinstance(as_of, datetime):
        return fixed_clock(as_of)
    return as_of_clock(as_of)


def iso(ts: float | None) -> str | None:
    """An epoch-seconds store time as ISO 8601 UTC (seconds), the one time format shown."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
