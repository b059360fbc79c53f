"""Placing touches: business days, one touch a day per person, and the frequency caps.

Every touch of a plan goes through `Scheduler.place`, which moves a wished date forward to
the first day that is a business day of the owner's calendar, has no other touch to that
person, keeps every sliding window within the per-person and per-account caps (counting
what was already made or planned), and, for nurture touches, keeps the minimum gap. Checking
the caps when placing, not afterwards, is what makes "caps hold over any window" true by
construction. `nurture_steps` picks the gentle multi-channel rotation between the
acknowledgement and the call-back.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from datetime import date, timedelta

from syncd.model import Channel, TouchKind
from syncd.policy.calendar import Calendar
from syncd.policy.config import CadenceConfig

# The opt-out channel each nurture step uses; a suppressed channel skips the step.
STEP_CHANNEL: dict[TouchKind, Channel] = {
    TouchKind.INSIGHT_EMAIL: Channel.EMAIL,
    TouchKind.LINKEDIN: Channel.LINKEDIN,
    TouchKind.CASE_STUDY: Channel.EMAIL,
    TouchKind.PRODUCT_UPDATE: Channel.EMAIL,
    TouchKind.HANDWRITTEN_NOTE: Channel.MAIL,
    TouchKind.CALL: Channel.PHONE,
}

_SEARCH_LIMIT = 3 * 366


def _count_between(days: list[int], low: int, high: int) -> int:
    """How many of the sorted ordinals lie in [low, high]."""
    return bisect_left(days, high + 1) - bisect_left(days, low)


def window_allows(days: list[int], day: int, cap: int, window: int) -> bool:
    """Would adding `day` keep every `window`-day span containing it at `cap` or fewer?

    The fullest span containing `day` starts either at a touch already there or at `day`
    itself, so only those starts need counting.
    """
    first = day - window + 1
    lo = bisect_left(days, first)
    hi = bisect_left(days, day + window)
    if hi - lo < cap:
        return True
    for start in (*days[lo : bisect_left(days, day + 1)], day):
        if start < first:
            continue
        if _count_between(days, start, start + window - 1) + 1 > cap:
            return False
    return True


class Scheduler:
    """Knows every touch already made or planned for the people of one account."""

    __slots__ = ("account", "calendar", "cfg", "moves", "people")

    def __init__(self, calendar: Calendar, cfg: CadenceConfig) -> None:
        self.calendar = calendar
        self.cfg = cfg
        self.people: dict[str, list[int]] = {}
        self.account: list[int] = []
        self.moves: dict[str, int] = {}  # cause -> how many touches it moved

    def load(self, person: str, days: Iterable[date]) -> None:
        self.people[person] = sorted(d.toordinal() for d in days)

    def ensure(self, person: str, days: Iterable[date]) -> None:
        """Load a person's known touches unless this plan already booked some for them."""
        if person not in self.people:
            self.load(person, days)

    def load_account(self, days: Iterable[date]) -> None:
        self.account = sorted(d.toordinal() for d in days)

    def person_days(self, person: str) -> list[int]:
        return self.people.setdefault(person, [])

    def _blocked(self, person_days: list[int], day: int, gap: bool) -> str | None:
        cfg = self.cfg
        index = bisect_left(person_days, day)
        if index < len(person_days) and person_days[index] == day:
            return "cadence.same_day"
        if gap:
            before = person_days[index - 1] if index else None
            after = person_days[index] if index < len(person_days) else None
            if (before is not None and day - before < cfg.min_gap_days) or (
                after is not None and after - day < cfg.min_gap_days
            ):
                return "cadence.gap"
        if not window_allows(person_days, day, cfg.max_per_person, cfg.person_window_days):
            return "cadence.cap.person"
        if not window_allows(self.account, day, cfg.max_per_account, cfg.account_window_days):
            return "cadence.cap.account"
        return None

    def place(
        self, wished: date, person: str, *, gap: bool = False, latest: date | None = None
    ) -> date | None:
        """Book the first allowed day on or after `wished` (None if none by `latest`)."""
        days = self.person_days(person)
        calendar = self.calendar
        day = calendar.on_or_after(wished)
        if day != wished:
            self.moves["calendar.business_day"] = self.moves.get("calendar.business_day", 0) + 1
        last = latest.toordinal() if latest is not None else None
        ordinal = day.toordinal()
        cause_seen: set[str] = set()
        for _ in range(_SEARCH_LIMIT):
            if last is not None and ordinal > last:
                return None
            cause = self._blocked(days, ordinal, gap)
            if cause is None:
                break
            cause_seen.add(cause)
            day = calendar.on_or_after(day + timedelta(days=1))
            ordinal = day.toordinal()
        else:
            return None
        for cause in cause_seen:
            self.moves[cause] = self.moves.get(cause, 0) + 1
        insort(days, ordinal)
        insort(self.account, ordinal)
        return day


def nurture_steps(
    cfg: CadenceConfig,
    rotation: int,
    available: frozenset[Channel],
    high_worth: bool,
) -> list[TouchKind]:
    """The nurture steps in rotation order, starting where earlier cycles left off.

    Steps on a suppressed channel, and the handwritten note below the worth threshold, drop
    out; consecutive steps on the same channel are interleaved with the others so the
    prospect hears from us on a different channel each time when that is possible.
    """
    usable = [
        step
        for step in cfg.steps
        if STEP_CHANNEL[step] in available
        and (step is not TouchKind.HANDWRITTEN_NOTE or high_worth)
    ]
    if not usable:
        return []
    start = rotation % len(usable)
    pending = usable[start:] + usable[:start]
    ordered: list[TouchKind] = []
    last: Channel | None = None
    while pending:
        pick = next((s for s in pending if STEP_CHANNEL[s] is not last), pending[0])
        pending.remove(pick)
        ordered.append(pick)
        last = STEP_CHANNEL[pick]
    return ordered
