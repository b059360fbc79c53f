"""The org-wide allocations the local Salesforce enforces, and how close a run came to each.

Salesforce documents three that an integration reading and writing through REST and Bulk API
2.0 meets (Developer Limits and Allocations Quick Reference):
- API requests per rolling 24 hours: 100,000 plus 1,000 per Enterprise licence (5,000 per
  Unlimited licence); the fake counts from its start, its life being shorter than a day;
- concurrent long-running requests (in flight 20 s or more): 25 in production orgs and
  sandboxes, 5 in Developer Edition; shorter requests have no concurrency limit;
- Bulk API 2.0 query jobs per rolling 24 hours: 10,000 (enforced in `fake_bulk.py`).
Each is refused with 403 REQUEST_LIMIT_EXCEEDED. `Peaks` keeps, per second of the fake's
clock, the highest count each limit saw, so a benchmark can show that no second went over.
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
    """The highest value each limit's counter reached in every second, and refusals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_second: dict[int, dict[str, int]] = {}
        self.refused: Counter[str] = Counter()

    def note(self, now: float, name: str, value: int) -> None:
        with self._lock:
            second = self.by_second.setdefault(int(now), {})
            second[name] = max(second.get(name, 0), value)

    def refuse(self, name: str) -> None:
        with self._lock:
            self.refused[name] += 1

    def busiest(self) -> dict[str, int]:
        """Each counter's highest value over all seconds."""
        with self._lock:
            out: dict[str, int] = {}
            for second in self.by_second.values():
                for name, value in second.items():
                    out[name] = max(out.get(name, 0), value)
            return out

    def seconds_over(self, limits: dict[str, int]) -> list[tuple[int, str, int]]:
        """(second, counter, value) wherever a counter went over its limit."""
        with self._lock:
            return [
                (at, name, value)
                for at, second in sorted(self.by_second.items())
                for name, value in second.items()
                if name in limits and value > limits[name]
            ]
