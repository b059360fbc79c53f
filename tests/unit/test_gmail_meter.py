"""The Gmail quota meter spends units the way Gmail meters them: per second and per minute."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.retry import RateGovernor
from syncd_gmail.client import QuotaMeter


class Clock:
    """A clock that only a sleep moves (plus a little time per call)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _busiest(spent: list[tuple[float, int]], window: float) -> int:
    best = 0
    for i, (start, _) in enumerate(spent):
        best = max(best, sum(u for at, u in spent[i:] if at - start < window))
    return best


@settings(max_examples=40, deadline=None)
@given(
    calls=st.lists(st.sampled_from([1, 2, 5, 10, 50]), min_size=20, max_size=200),
    share=st.sampled_from([0.5, 1.0]),
    gap=st.sampled_from([0.0, 0.001, 0.02]),
)
def test_no_second_goes_over_the_share_and_the_share_is_used(
    calls: list[int], share: float, gap: float
) -> None:
    """Whatever the mix of calls, no sliding second spends more than the share of 250 units,
    and a steady stream of calls uses at least 90 % of it."""
    clock = Clock()
    meter = QuotaMeter(
        RateGovernor(share, sleep=clock.sleep, clock=clock), 250, 15_000, clock, clock.sleep
    )
    spent: list[tuple[float, int]] = []
    started = clock.now
    for units in calls:
        with meter.spend(units):
            sent = clock.now
            clock.now += gap  # the call's own time
        spent.append((sent, units))
    cap = 250 * share
    assert _busiest(spent, 1.0) <= cap
    assert _busiest(spent, 60.0) <= 15_000 * share
    total = sum(calls)
    elapsed = clock.now - started
    if total > 4 * cap and gap == 0.0:
        # all waiting is for the budget: the rate is the share, less one partly-used second
        assert total / max(elapsed, 1.0) >= 0.9 * cap * (elapsed / (elapsed + 1.0))


def test_a_batch_is_sized_to_fit_one_seconds_share() -> None:
    """A second's share of 125 units carries 12 threads.get (10 units) or 25 messages.get."""
    clock = Clock()
    meter = QuotaMeter(
        RateGovernor(0.5, sleep=clock.sleep, clock=clock), 250, 15_000, clock, clock.sleep
    )
    assert meter.per_call_limit() == 125


@settings(max_examples=60, deadline=None)
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from([1, 2, 5, 10, 25, 50, 125, 250]),  # units (a batch: many at once)
            st.floats(0.0, 0.6),  # the call's duration, send to answer
            st.floats(0.0, 1.0),  # where in it Gmail counts the call (its arrival)
            st.floats(0.0, 0.05),  # the caller's own time before the next call
        ),
        min_size=10,
        max_size=150,
    ),
    share=st.sampled_from([0.5, 1.0]),
)
def test_no_gmail_second_goes_over_whatever_the_calls_latency(
    calls: list[tuple[int, float, float, float]], share: float
) -> None:
    """Gmail counts a call when it arrives, anywhere between our send and the answer: no
    sliding second (or minute) of those arrivals ever holds more than the share."""
    clock = Clock()
    meter = QuotaMeter(
        RateGovernor(share, sleep=clock.sleep, clock=clock), 250, 15_000, clock, clock.sleep
    )
    arrived: list[tuple[float, int]] = []
    for units, duration, where, think in calls:
        with meter.spend(units):
            arrived.append((clock.now + duration * where, units))
            clock.now += duration
        clock.now += think
    arrived.sort()
    cap = 250 * share
    oversized = [u for u, *_ in calls if u > cap]  # sent alone, into an empty second
    assert _busiest(arrived, 1.0) <= max([cap, *oversized])
    assert _busiest(arrived, 60.0) <= 15_000 * share


def test_a_steady_stream_of_short_calls_uses_the_share() -> None:
    """Calls of 50 units taking 30 ms each run at 250/1.03 units a second: only each call's
    own duration is lost per window."""
    clock = Clock()
    meter = QuotaMeter(
        RateGovernor(1.0, sleep=clock.sleep, clock=clock), 250, 10**9, clock, clock.sleep
    )
    started = clock.now
    for _ in range(500):
        with meter.spend(50):
            clock.now += 0.03
    assert 500 * 50 / (clock.now - started) >= 0.95 * 250
