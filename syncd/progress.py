"""Progress of a long backfill: a live line on a terminal, periodic events in the logs.

A first sync of a large org can read hundreds of thousands of records over hours. An admin at a
terminal wants to see it move (records read, written, rate, ETA); under systemd the same facts
go to the journal as `backfill.progress` events, at most every `interval_s` so a fast backfill
does not flood it, and a `backfill.done` summary closes the run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, TextIO

import structlog

REDRAW_S = 0.2  # terminal refresh: smooth enough to read, cheap enough to ignore


class EventLog(Protocol):
    """The part of a structlog logger Progress uses (bind `shard=` before passing it in)."""

    def info(self, event: str, **kw: Any) -> Any: ...


class Progress:
    """Counts records read and written; call `advance` per page, `close` at the end."""

    def __init__(
        self,
        total: int | None,
        stream: TextIO | None = None,
        log: EventLog | None = None,
        interval_s: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.read = 0
        self.written = 0
        self._stream = sys.stderr if stream is None else stream
        self._log: EventLog = structlog.get_logger() if log is None else log
        self._interval_s = interval_s
        self._clock = clock
        self._tty = self._stream.isatty()
        self._started = clock()
        self._last_event = self._started
        self._last_draw = float("-inf")
        self._closed = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def advance(self, read: int = 0, written: int = 0) -> None:
        """Add records read and written since the last call."""
        self.read += read
        self.written += written
        now = self._clock()
        if now - self._last_event >= self._interval_s:
            self._last_event = now
            self._clear_line()
            self._log.info("backfill.progress", **self._figures(now))
            self._last_draw = float("-inf")  # the line was cleared: draw it again now
        if self._tty and now - self._last_draw >= REDRAW_S:
            self._last_draw = now
            self._draw(now)

    def close(self) -> None:
        """Finish the terminal line and log the `backfill.done` summary (once)."""
        if self._closed:
            return
        self._closed = True
        now = self._clock()
        if self._tty:
            self._draw(now)
            self._stream.write("\n")
            self._stream.flush()
        elapsed = now - self._started
        self._log.info(
            "backfill.done",
            read=self.read,
            written=self.written,
            elapsed_s=round(elapsed, 1),
            rate_per_s=round(self._rate(now), 1),
        )

    def _rate(self, now: float) -> float:
        elapsed = now - self._started
        return self.read / elapsed if elapsed > 0 else 0.0

    def _eta_s(self, now: float) -> float | None:
        rate = self._rate(now)
        if self.total is None or rate <= 0:
            return None
        return max(0, self.total - self.read) / rate

    def _figures(self, now: float) -> dict[str, Any]:
        eta = self._eta_s(now)
        return {
            "read": self.read,
            "written": self.written,
            "total": self.total,
            "rate_per_s": round(self._rate(now), 1),
            "eta_s": None if eta is None else round(eta),
        }

    def _draw(self, now: float) -> None:
        read = f"{self.read:,}"
        if self.total:
            read += f"/{self.total:,} ({min(100.0, 100 * self.read / self.total):.1f}%)"
        parts = [f"{read} read", f"{self.written:,} written", f"{self._rate(now):,.0f}/s"]
        eta = self._eta_s(now)
        if eta is not None and not self._closed:
            parts.append(f"ETA {format_duration(eta)}")
        elif self._closed:
            parts.append(f"done in {format_duration(now - self._started)}")
        # \r returns to the line start, \x1b[K erases what a longer previous line left behind.
        self._stream.write("\r" + " · ".join(parts) + "\x1b[K")
        self._stream.flush()

    def _clear_line(self) -> None:
        """Console logs share the terminal: wipe the progress line before one is printed."""
        if self._tty:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


def format_duration(seconds: float) -> str:
    """`42s`, `3m05s`, `2h07m`: short enough for one terminal line."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
