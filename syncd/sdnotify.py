"""The systemd notify protocol: tell the service manager how the daemon is doing.

With `Type=notify` systemd considers the service started only when it receives READY=1, kills
it when WATCHDOG=1 stops arriving within `WatchdogSec=`, and shows STATUS= in `systemctl
status`. The protocol is one datagram of `KEY=VALUE` lines sent to the AF_UNIX socket named by
$NOTIFY_SOCKET (a path, or `@name` for the abstract namespace), so it is written out here
rather than pulled in as a dependency. Without $NOTIFY_SOCKET (a terminal, a container, a test)
every call is a no-op, so the daemon calls these unconditionally.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping

import structlog

log = structlog.get_logger()


class Notifier:
    """Sends state changes to systemd; a failed send is logged once, never raised."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        self._env = env
        self._address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that listens for notifications."""
        return self._address is not None

    def ready(self, status: str = "") -> None:
        """Start-up (or a reload) is complete: config valid, migrations run, checks passed."""
        self._send(_fields(READY="1", STATUS=status))

    def reloading(self) -> None:
        """A SIGHUP reload begins; READY=1 ends it. MONOTONIC_USEC lets systemd (v253+) tell
        this reload from an older one."""
        now_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._send(_fields(RELOADING="1", MONOTONIC_USEC=str(now_us)))

    def stopping(self, status: str = "") -> None:
        """Shutdown begins (SIGTERM): in-flight writes are being finished."""
        self._send(_fields(STOPPING="1", STATUS=status))

    def watchdog(self) -> None:
        """The main loop is alive; call at least every `watchdog_interval_s()` seconds."""
        self._send(_fields(WATCHDOG="1"))

    def status(self, text: str) -> None:
        """A one-line human-readable state, shown by `systemctl status syncd`."""
        self._send(_fields(STATUS=text))

    def extend_timeout(self, seconds: float) -> None:
        """Ask for more time to start or stop (long migrations, a slow final flush)."""
        self._send(_fields(EXTEND_TIMEOUT_USEC=str(int(seconds * 1_000_000))))

    def watchdog_interval_s(self) -> float | None:
        """How often to send WATCHDOG=1: half of `WatchdogSec=`; None when not requested.

        $WATCHDOG_PID, when set, names the process the watchdog is meant for; any other
        process (a child that inherited the environment) must not ping.
        """
        raw_usec = self._env.get("WATCHDOG_USEC", "")
        raw_pid = self._env.get("WATCHDOG_PID", "")
        if not raw_usec.isdigit() or int(raw_usec) == 0:
            return None
        if raw_pid and (not raw_pid.isdigit() or int(raw_pid) != os.getpid()):
            return None
        return int(raw_usec) / 2 / 1_000_000

    def _send(self, message: str) -> None:
        if self._address is None or not message:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode(), self._address)
        except OSError as exc:
            # Not fatal by itself: if systemd really is gone or deaf, the watchdog says so.
            if not self._warned:
                log.warning("notify.failed", error=type(exc).__name__, errno=exc.errno)
                self._warned = True


class WatchdogPacer:
    """Sends WATCHDOG=1 once every half `WatchdogSec=` (systemd's advice), however often
    the main loop calls `pet()`; nothing without a watchdog interval."""

    def __init__(self, notifier: Notifier, clock: Callable[[], float] = time.monotonic):
        self._notifier = notifier
        self._clock = clock
        self.interval_s = notifier.watchdog_interval_s()
        self._next = float("-inf")

    def pet(self) -> None:
        if self.interval_s is None:
            return
        now = self._clock()
        if now >= self._next:
            self._notifier.watchdog()
            self._next = now + self.interval_s


def _socket_address(value: str) -> str | None:
    """A $NOTIFY_SOCKET value as a socket address; None when unset or not AF_UNIX."""
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]  # the abstract namespace: a leading NUL byte, no file
    if value:
        # e.g. "vsock:…" (systemd ≥ 253, for VMs): not something syncd runs under.
        log.warning("notify.unsupported_socket", scheme=value.split(":", 1)[0])
    return None


def _fields(**values: str) -> str:
    """`KEY=VALUE` lines, empty values left out; a newline would start a bogus field."""
    return "\n".join(
        f"{key}={' '.join(value.splitlines())}" for key, value in values.items() if value
    )
