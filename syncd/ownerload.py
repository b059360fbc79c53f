"""Per-owner daily load: at most `max_tasks_per_owner_per_day` syncd tasks on one rep's day.

One `OwnerLoad` is shared by every plan decided in a page (the engine preloads what the
store already holds for those owners), so the cap counts across prospects and accounts,
not only within one plan. The scheduler asks `full` before booking a day and calls `book`
after: like the frequency caps, the daily cap holds by construction, and a touch that finds
its day full moves to the next business day that still has room. Which prospects get the
early days is the order the plans are made in: the engine decides urgent ones first, then by
worth, highest first, so a first backfill fills the weeks from the most valuable losses down.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date


class OwnerLoad:
    """How many syncd tasks each owner already has on each day (by date ordinal)."""

    __slots__ = ("cap", "days", "skip")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.days: dict[str, dict[int, int]] = {}
        # Full day -> a later day worth trying: a backfill fills months of days, and a search
        # must not walk them one by one for every touch (path-compressed like union-find).
        self.skip: dict[str, dict[int, int]] = {}

    def load(self, owner: str, dues: Iterable[date]) -> None:
        """Add tasks the store already holds for `owner` (planned or made)."""
        for due in dues:
            self.book(owner, due.toordinal())

    def full(self, owner: str, ordinal: int) -> bool:
        counts = self.days.get(owner)
        return counts is not None and counts.get(ordinal, 0) >= self.cap

    def next_open(self, owner: str, ordinal: int) -> int:
        """The first day on or after `ordinal` with room for one more task."""
        skip = self.skip.get(owner)
        if not skip:
            return ordinal
        path = []
        while ordinal in skip:
            path.append(ordinal)
            ordinal = skip[ordinal]
        for day in path:
            skip[day] = ordinal
        return ordinal

    def book(self, owner: str, ordinal: int) -> None:
        counts = self.days.setdefault(owner, {})
        counts[ordinal] = counted = counts.get(ordinal, 0) + 1
        if counted >= self.cap:
            self.skip.setdefault(owner, {})[ordinal] = ordinal + 1

    def count(self, owner: str, day: date) -> int:
        return self.days.get(owner, {}).get(day.toordinal(), 0)


# The sentence a rep reads in a task the daily cap moved.
DEFERRED_NOTE = "Scheduled later to keep your day manageable."
