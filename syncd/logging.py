"""structlog set-up: JSON lines for journald, a readable console on a terminal, redaction.

Under systemd each line starts with its syslog priority (`<4>` for a warning), so the journal
files it at that priority; `journalctl -o cat` shows the JSON alone. Every event that belongs
to a shard carries `shard`: the engine, the start-up checks and doctor bind it with structlog
context variables, so connector events (logins, pages, retries, batches) carry it too.

The redaction processor runs last before rendering, on every value of every event: it masks
any secret value revealed in this process (see syncd.secrets) and any field whose name says
it holds a credential, so a secret that reaches a log call by accident never reaches the log.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from syncd.secrets import MASK, revealed_values, scrub

SENSITIVE_KEYS = frozenset(
    {
        "password",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "authorization",
        "client_secret",
        "private_key",
        "api_key",
        "session_id",
        "assertion",
    }
)
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _scrub(value: Any, secrets: frozenset[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {
            k: MASK if str(k).lower() in SENSITIVE_KEYS else _scrub(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v, secrets) for v in value]
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask revealed secrets anywhere in the event, and credential-named fields entirely."""
    secrets = revealed_values()
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = MASK
        else:
            event_dict[key] = _scrub(event_dict[key], secrets)
    return event_dict


# syslog priorities (sd-daemon(3)): journald reads a leading `<N>` as the line's PRIORITY
PRIORITIES = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2, "exception": 3}


def to_journal(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when `stream` is connected to the journal: $JOURNAL_STREAM (`DEV:INODE`, set by
    systemd for a unit's stdout/stderr) names the same file the stream writes to."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    dev, _, inode = value.partition(":")
    if not (dev.isdigit() and inode.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(inode))


class JournalPrefix:
    """Wraps a renderer: each line starts `<N>`, the event's syslog priority, which journald
    strips and stores as PRIORITY, so `journalctl -p warning` selects warnings and worse
    (`-o cat` still prints the bare JSON)."""

    def __init__(self, renderer: Any):
        self._renderer = renderer

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        level = str(event_dict.get("level", method))
        return f"<{PRIORITIES.get(level, 6)}>{self._renderer(logger, method, event_dict)}"


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Configure structlog for the process; `fmt` is auto | json | console."""
    out = stream or sys.stdout
    console = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=out.isatty())
        if console
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    if to_journal(out):
        renderer = JournalPrefix(renderer)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Libraries that log through the standard library (urllib3, google-auth) go to stderr,
    # at warning and above, so they never interleave with the JSON stream on stdout; with
    # their priority too when stderr is the journal, and the same redaction as syncd's lines.
    handler = logging.StreamHandler(sys.stderr)
    if to_journal(sys.stderr):
        handler.setFormatter(_JournalFormatter("%(levelname)s:%(name)s:%(message)s"))
    handler.addFilter(_ScrubRecords())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


class _JournalFormatter(logging.Formatter):
    """A standard-library record with its syslog priority prefix (see JournalPrefix)."""

    def format(self, record: logging.LogRecord) -> str:
        priority = PRIORITIES.get(record.levelname.lower(), 6)
        return f"<{priority}>{super().format(record)}"


class _ScrubRecords(logging.Filter):
    """The same redaction for what libraries log through the standard library."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
