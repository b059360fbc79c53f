"""Backfill progress as an admin sees it: a terminal line, and events in the JSON logs."""

from __future__ import annotations

import io
from typing import Any

import pytest
from structlog.testing import capture_logs

from syncd.progress import Progress, format_duration


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class RecordingLog:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def info(self, event: str, **kw: Any) -> None:
        self.events.append((event, kw))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [kw for event, kw in self.events if event == name]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_progress_events_carry_counts_rate_and_eta(clock: FakeClock) -> None:
    """Every interval a backfill.progress event reports read, written, rate and ETA."""
    log = RecordingLog()
    progress = Progress(10_000, io.StringIO(), log, interval_s=30, clock=clock)
    clock.now += 10
    progress.advance(read=1000, written=100)
    assert log.named("backfill.progress") == []  # not yet: the interval has not passed
    clock.now += 20
    progress.advance(read=2000, written=200)
    assert log.named("backfill.progress") == [
        {"read": 3000, "written": 300, "total": 10_000, "rate_per_s": 100.0, "eta_s": 70}
    ]


def test_events_are_rate_limited_however_fast_records_arrive(clock: FakeClock) -> None:
    """Four pages a second for a minute yield one event per 30 s interval, not 240."""
    log = RecordingLog()
    progress = Progress(None, io.StringIO(), log, interval_s=30, clock=clock)
    for _ in range(240):
        clock.now += 0.25
        progress.advance(read=10)
    assert [event["read"] for event in log.named("backfill.progress")] == [1200, 2400]


def test_without_a_total_there_is_no_eta(clock: FakeClock) -> None:
    """When the source cannot count ahead, the ETA is null rather than invented."""
    log = RecordingLog()
    progress = Progress(None, io.StringIO(), log, interval_s=1, clock=clock)
    clock.now += 2
    progress.advance(read=50)
    assert log.named("backfill.progress")[0]["eta_s"] is None


def test_done_summarises_the_run(clock: FakeClock) -> None:
    """Closing logs one backfill.done with totals, elapsed time and average rate."""
    log = RecordingLog()
    with Progress(None, io.StringIO(), log, clock=clock) as progress:
        clock.now += 40
        progress.advance(read=800, written=30)
    progress.close()  # a second close changes nothing
    assert log.named("backfill.done") == [
        {"read": 800, "written": 30, "elapsed_s": 40.0, "rate_per_s": 20.0}
    ]


def test_a_terminal_gets_one_updating_line(clock: FakeClock) -> None:
    """On a TTY the figures redraw in place and only closing moves to a new line."""
    term = Terminal()
    progress = Progress(10_000, term, RecordingLog(), interval_s=3600, clock=clock)
    clock.now += 10
    progress.advance(read=2500, written=40)
    clock.now += 10
    progress.advance(read=2500, written=10)
    shown = term.getvalue()
    assert "\n" not in shown
    last = shown.split("\r")[-1]
    assert last.startswith("5,000/10,000 (50.0%) read · 50 written · 250/s · ETA 20s")
    progress.close()
    assert term.getvalue().endswith("\n")
    assert "done in 20s" in term.getvalue().split("\r")[-1]


def test_terminal_redraws_are_throttled(clock: FakeClock) -> None:
    """Many pages within a fraction of a second redraw the line only once."""
    term = Terminal()
    progress = Progress(None, term, RecordingLog(), interval_s=3600, clock=clock)
    for _ in range(100):
        clock.now += 0.001
        progress.advance(read=1)
    assert term.getvalue().count("\r") == 1


def test_nothing_is_drawn_when_not_a_terminal(clock: FakeClock) -> None:
    """Under systemd (no TTY) the stream stays clean; only log events report progress."""
    stream = io.StringIO()
    with Progress(100, stream, RecordingLog(), interval_s=1, clock=clock) as progress:
        clock.now += 5
        progress.advance(read=100, written=100)
    assert stream.getvalue() == ""


def test_default_log_is_structlog(clock: FakeClock) -> None:
    """Without an explicit logger the events go through structlog under their stable names."""
    with capture_logs() as logs, Progress(10, io.StringIO(), interval_s=1, clock=clock) as p:
        clock.now += 2
        p.advance(read=5)
    assert [entry["event"] for entry in logs] == ["backfill.progress", "backfill.done"]


@pytest.mark.parametrize(
    ("seconds", "text"), [(42.4, "42s"), (185, "3m05s"), (7620, "2h07m"), (0, "0s")]
)
def test_durations_are_short(seconds: float, text: str) -> None:
    """Durations read at a glance on one terminal line."""
    assert format_duration(seconds) == text
