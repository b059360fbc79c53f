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
from datetime import date

from syncd.model import Channel, RuleHit, TouchKind
from syncd.ownerload import OwnerLoad
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
_NO_LIMIT = date.max.toordinal()


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

    __slots__ = (
        "account",
        "account_cap",
        "account_window",
        "calendar",
        "cfg",
        "deferred",
        "min_gap",
        "moves",
        "owner",
        "owner_load",
        "people",
        "person_cap",
        "person_window",
    )

    def __init__(
        self,
        calendar: Calendar,
        cfg: CadenceConfig,
        owner_load: OwnerLoad | None,
        owner: str | None,
    ) -> None:
        self.calendar = calendar
        # The rep's daily load, shared with the other plans of the page (None: no cap). No
        # default: every caller that places a task must say whose day it lands on.
        self.owner_load = owner_load if owner is not None else None
        self.owner = owner or ""
        self.deferred: set[tuple[str, int]] = set()  # (person, day) the daily cap moved
        self.cfg = cfg
        self.people: dict[str, list[int]] = {}
        self.account: list[int] = []
        self.moves: dict[str, int] = {}  # cause -> how many touches it moved
        # Read once: every placement checks them, often several times.
        self.min_gap = cfg.min_gap_days
        self.person_cap, self.person_window = cfg.max_per_person, cfg.person_window_days
        self.account_cap, self.account_window = cfg.max_per_account, cfg.account_window_days

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

    def _blocked(self, person_days: list[int], day: int, gap: bool) -> tuple[str, int] | None:
        """Why `day` can't be booked and the first day worth trying next, or None if it can.

        The next day skips what is blocked for certain (a gap jumps to its end), so a search
        over months takes a handful of steps. Fewer known days than a cap can't break it, so
        the windows are only counted past that.
        """
        index = bisect_left(person_days, day)
        count = len(person_days)
        if index < count and person_days[index] == day:
            return "cadence.same_day", day + 1
        if gap:
            min_gap = self.min_gap
            if index and day - person_days[index - 1] < min_gap:
                return "cadence.gap", person_days[index - 1] + min_gap
            if index < count and person_days[index] - day < min_gap:
                return "cadence.gap", person_days[index] + min_gap
        cap = self.person_cap
        if count >= cap and not window_allows(person_days, day, cap, self.person_window):
            return "cadence.cap.person", day + 1
        account, cap = self.account, self.account_cap
        if len(account) >= cap and not window_allows(account, day, cap, self.account_window):
            return "cadence.cap.account", day + 1
        load = self.owner_load
        if load is not None and load.full(self.owner, day):
            return "cadence.cap.owner", load.next_open(self.owner, day)
        return None

    def owner_cap_hit(self) -> RuleHit:
        """The rule hit saying the daily cap moved some of this scheduler's placements."""
        return owner_cap_rule(self.moves.get("cadence.cap.owner", 0), self.cfg)

    def place(
        self, wished: date, person: str, *, gap: bool = False, latest: date | None = None
    ) -> date | None:
        """Book the first allowed day on or after `wished` (None if none by `latest`)."""
        days = self.people.get(person)
        if days is None:
            days = self.people[person] = []
        on_or_after = self.calendar.on_or_after
        day = on_or_after(wished)
        moves = self.moves
        if day != wished:
            moves["calendar.business_day"] = moves.get("calendar.business_day", 0) + 1
        last = latest.toordinal() if latest is not None else _NO_LIMIT
        ordinal = day.toordinal()
        blocked = self._blocked(days, ordinal, gap)
        if blocked is not None:
            causes: set[str] = set()
            for _ in range(_SEARCH_LIMIT):
                if blocked is None:
                    break
                causes.add(blocked[0])
                day = on_or_after(date.fromordinal(blocked[1]))
                ordinal = day.toordinal()
                if ordinal > last:
                    return None
                blocked = self._blocked(days, ordinal, gap)
            else:
                return None
            for cause in causes:
                moves[cause] = moves.get(cause, 0) + 1
            if "cadence.cap.owner" in causes:
                self.deferred.add((person, ordinal))
        if ordinal > last:
            return None
        insort(days, ordinal)
        insort(self.account, ordinal)
        if self.owner_load is not None:
            self.owner_load.book(self.owner, ordinal)
        return day


def owner_cap_rule(moved: int, cfg: CadenceConfig) -> RuleHit:
    """The rule hit saying the owner's daily cap moved `moved` tasks later."""
    return RuleHit(
        "cadence.cap.owner", {"touches_moved": moved, "cap": cfg.max_tasks_per_owner_per_day}
    )


def owner_day(
    calendar: Calendar, load: OwnerLoad | None, owner: str | None, wished: date
) -> tuple[date, bool]:
    """Book the first business day on or after `wished` with room on the owner's day.

    For tasks placed without a `Scheduler` (no per-person cadence applies). Also says whether
    the daily cap moved it.
    """
    day = calendar.on_or_after(wished)
    if load is None or owner is None:
        return day, False
    moved = False
    ordinal = day.toordinal()
    for _ in range(_SEARCH_LIMIT):
        if not load.full(owner, ordinal):
            break
        moved = True
        following = max(load.next_open(owner, ordinal), ordinal + 1)
        day = calendar.on_or_after(date.fromordinal(following))
        ordinal = day.toordinal()
    load.book(owner, ordinal)
    return day, moved


def nurture_steps(
    steps: tuple[TouchKind, ...],
    rotation: int,
    available: frozenset[Channel],
    high_worth: bool,
    memo: dict[tuple[frozenset[Channel], bool], tuple[tuple[TouchKind, ...], ...]],
) -> tuple[TouchKind, ...]:
    """The nurture steps in rotation order, starting where earlier cycles left off.

    Steps on a suppressed channel, and the handwritten note below the worth threshold, drop
    out; `rotation` (nurture touches made so far) says where this cycle starts. Consecutive
    steps on the same channel are spread out between the others, so the prospect hears from
    us on a different channel each time when that is possible. Few distinct inputs exist:
    `memo` (kept with the config) remembers every ordering.
    """
    orderings = memo.get((available, high_worth))
    if orderings is None:
        usable = [
            step
            for step in steps
            if STEP_CHANNEL[step] in available
            and (step is not TouchKind.HANDWRITTEN_NOTE or high_worth)
        ]
        orderings = tuple(_interleaved(usable[i:] + usable[:i]) for i in range(len(usable)))
        memo[(available, high_worth)] = orderings
    return orderings[rotation % len(orderings)] if orderings else ()


def _interleaved(pending: list[TouchKind]) -> tuple[TouchKind, ...]:
    ordered: list[TouchKind] = []
    last: Channel | None = None
    while pending:
        pick = next((s for s in pending if STEP_CHANNEL[s] is not last), pending[0])
        pending.remove(pick)
        ordered.append(pick)
        last = STEP_CHANNEL[pick]
    return tuple(ordered)
