"""Retry policy and rate governor."""

from __future__ import annotations

import pytest

from syncd.connectors import RetriableError, SkippableRecordError
from syncd.retry import RateGovernor, call_with_retry


def flaky(errors: list[Exception]):  # type: ignore[no-untyped-def]
    calls = []

    def fn() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return fn, calls


def test_retriable_errors_are_retried_honouring_retry_after() -> None:
    """A 429 with Retry-After waits at least that long before the next attempt."""
    slept: list[float] = []
    fn, calls = flaky([RetriableError("429", retry_after_s=7.0), RetriableError("503")])
    assert call_with_retry(fn, sleep=slept.append, base_s=0.01) == "ok"
    assert len(calls) == 3
    assert slept[0] >= 7.0


def test_other_errors_are_not_retried() -> None:
    """Only RetriableError is retried: a bad record fails at once."""
    fn, calls = flaky([SkippableRecordError("bad")])
    with pytest.raises(SkippableRecordError):
        call_with_retry(fn, sleep=lambda s: None)
    assert len(calls) == 1


def test_in_doubt_errors_are_left_to_the_write_protocol() -> None:
    """A write that may have been applied is not blindly re-sent."""
    fn, calls = flaky([RetriableError("timeout", in_doubt=True)])
    with pytest.raises(RetriableError):
        call_with_retry(fn, sleep=lambda s: None)
    assert len(calls) == 1


def test_attempts_are_bounded() -> None:
    """After the last attempt the error propagates."""
    fn, calls = flaky([RetriableError("503")] * 10)
    with pytest.raises(RetriableError):
        call_with_retry(fn, attempts=3, sleep=lambda s: None)
    assert len(calls) == 3


def test_governor_waits_out_a_spent_short_window() -> None:
    """With syncd's share of a 10-second budget spent, the caller waits for the window."""
    now = [100.0]
    slept: list[float] = []
    gov = RateGovernor(share=0.5, sleep=slept.append, clock=lambda: now[0])
    gov.observe("ten_second", used=60, limit=100, window_s=10)
    gov.acquire()
    assert slept == [10.0]
    assert gov.remaining_ratio() == pytest.approx(0.4)


def test_governor_reserves_the_rest_of_a_daily_budget() -> None:
    """Past the configured share of the daily budget the shard pauses instead of blocking."""
    gov = RateGovernor(share=0.5, sleep=lambda s: None, clock=lambda: 0.0)
    gov.observe("daily", used=2600, limit=5000, window_s=86400)
    with pytest.raises(RetriableError) as info:
        gov.acquire(max_wait_s=60)
    assert info.value.retry_after_s == pytest.approx(86400)
    gov.observe("daily", used=100, limit=5000, window_s=86400)
    gov.acquire()  # below the share: no wait
