"""Staying inside HubSpot's budgets: the usage headers feed syncd's rate governor, and
search calls are spaced client-side because search has its own 5 requests/s limit and
answers without any usage headers to learn from.

The governor only sees the portal's count, so once syncd's share is spent it waits a whole
window from then: calls come in bursts followed by idle seconds, and a good part of the share
is never used. `WindowPacer` keeps syncd's own calls just under its share of the rolling
10-second window, timing each call from the ones it made itself, so the share is spent evenly
and the governor is left to react to the portal's other integrations (and to 429s).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from syncd.retry import RateGovernor

TEN_SECONDLY_BUDGET = "hubspot_ten_secondly"
DAILY_BUDGET = "hubspot_daily"


class SearchLimiter:
    """Spaces calls at least 1/rate apart, so no rolling second holds more than `rate`.

    Small enough not to warrant a dependency; `sleep` and `clock` are injectable so tests
    never wait.
    """

    def __init__(
        self,
        rate_per_s: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._interval = 1.0 / rate_per_s
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._next = float("-inf")

    def wait(self) -> None:
        with self._lock:  # reserve a slot, then sleep outside the lock
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)


class WindowPacer:
    """At most `share` x limit - 1 of syncd's own calls in any rolling window (the limit and
    window learnt from the usage headers; nothing is paced before they are known).

    One call fewer than the share, and `margin_s` added to the window, because the portal
    counts calls when they arrive and the governor stops syncd once its share is reached.
    """

    def __init__(
        self,
        share: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        margin_s: float = 0.25,
    ):
        self._share = share
        self._sleep = sleep
        self._clock = clock
        self._margin_s = margin_s
        self._lock = threading.Lock()
        self._cap = 0  # 0: limit not known yet
        self._window_s = 10.0
        self._sent: deque[float] = deque()  # when syncd's calls in the window were sent

    def learn(self, limit: int, window_s: float) -> None:
        with self._lock:
            self._cap = max(1, math.ceil(limit * self._share) - 1)
            self._window_s = window_s

    def wait(self) -> None:
        with self._lock:  # reserve a slot, then sleep outside the lock
            now = self._clock()
            span = self._window_s + self._margin_s
            while self._sent and now - self._sent[0] >= span:
                self._sent.popleft()
            slot = now
            if self._cap and len(self._sent) >= self._cap:
                slot = max(now, self._sent[-self._cap] + span)
            self._sent.append(slot)
            while len(self._sent) > self._cap > 0:
                self._sent.popleft()
        if slot > now:
            self._sleep(slot - now)


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    return int(value) if value is not None and value.isdigit() else None


def observe_usage(
    governor: RateGovernor,
    headers: Mapping[str, str],
    now: datetime | None = None,
    pacer: WindowPacer | None = None,
) -> None:
    """Feed the governor (and the pacer) from `X-HubSpot-RateLimit-*` (keys lower-cased)."""
    limit = _int(headers, "x-hubspot-ratelimit-max")
    remaining = _int(headers, "x-hubspot-ratelimit-remaining")
    if limit and remaining is not None:
        interval_ms = _int(headers, "x-hubspot-ratelimit-interval-milliseconds") or 10_000
        governor.observe(TEN_SECONDLY_BUDGET, limit - remaining, limit, interval_ms / 1000)
        if pacer is not None:
            pacer.learn(limit, interval_ms / 1000)
    daily = _int(headers, "x-hubspot-ratelimit-daily")
    daily_left = _int(headers, "x-hubspot-ratelimit-daily-remaining")
    if daily and daily_left is not None:
        moment = now or datetime.now(UTC)
        midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        governor.observe(
            DAILY_BUDGET, daily - daily_left, daily, (midnight - moment).total_seconds()
        )


def spent(governor: RateGovernor, window_s: float) -> None:
    """A 429 on the 10-second policy: treat the window as used up for `window_s`."""
    governor.observe(TEN_SECONDLY_BUDGET, 1, 1, window_s)
