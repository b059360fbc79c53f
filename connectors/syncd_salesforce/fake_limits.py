"""The org-wide allocations the local Salesforce enforces, and how close a run came to each.

Salesforce documents three that an integration reading and writing through REST and Bulk API
2.0 meets (Developer Limits and Allocations Quick Reference):
- API requests per rolling 24 hours: 100,000 plus 1,000 per Enterprise licence (5,000 per
  Unlimited licence); the fake counts from its start, its life being shorter than a day;
- concurrent long-running requests (in flight 20 s or more): 25 in production orgs and
  sandboxes, 5 in Developer Edition; shorter requests have no concurrency limit;
- Bulk API 2.0 query jobs per rolling 24 hours: 10,000 (enforced in `fake_bulk.py`).
Each is refused with 403 REQUEST_LIMIT_EXCEEDED. `Peaks` keeps the highest count each limit
saw and every second of the fake's clock in which one went over, so a benchmark can show
that none did.
"""

from __future__ import annotations

import threading
from collections import Counter

LONG_RUNNING_S = 20.0
CONCURRENT_LONG_RUNNING = 25  # production orgs and sandboxes
ENTERPRISE_DAILY_BASE = 100_000
ENTERPRISE_DAILY_PER_LICENCE = 1_000


def enterprise_daily_requests(licences: int) -> int:
    """An Enterprise Edition org's API requests per 24 hours (without add-ons)."""
    return ENTERPRISE_DAILY_BASE + ENTERPRISE_DAILY_PER_LICENCE * licences


class Peaks:
    """The highest value each limit's counter reached, every second in which one went over its
    limit, and the requests refused. Bounded: a sandbox may serve for days."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busiest: dict[str, int] = {}
        self._over: list[tuple[int, str, int]] = []
        self.refused: Counter[str] = Counter()

    def note(self, now: float, name: str, value: int, limit: int) -> None:
        with self._lock:
            self._busiest[name] = max(self._busiest.get(name, 0), value)
            if value > limit:
                self._over.append((int(now), name, value))

    def refuse(self, name: str) -> None:
        with self._lock:
            self.refused[name] += 1

    def busiest(self) -> dict[str, int]:
        """Each counter's highest value in any second."""
        with self._lock:
            return dict(self._busiest)

    def seconds_over(self) -> list[tuple[int, str, int]]:
        """(second, counter, value) wherever a counter went over its limit."""
        with self._lock:
            return list(self._over)
