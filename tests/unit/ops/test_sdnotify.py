"""The notify protocol against real AF_UNIX datagram sockets, as systemd would receive it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from syncd.sdnotify import Notifier, WatchdogPacer


class Listener:
    """A bound datagram socket standing in for systemd's notify socket."""

    def __init__(self, sock: socket.socket, env_value: str):
        self.sock = sock
        self.env_value = env_value

    def receive(self) -> dict[str, str]:
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n"))

    def nothing_pending(self) -> bool:
        self.sock.setblocking(False)
        try:
            self.sock.recv(4096)
        except BlockingIOError:
            return True
        finally:
            self.sock.settimeout(5)
        return False


@pytest.fixture
def path_listener(tmp_path: Path) -> Iterator[Listener]:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        yield Listener(sock, str(path))


@pytest.fixture
def abstract_listener() -> Iterator[Listener]:
    name = f"syncd-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        yield Listener(sock, "@" + name)


def test_ready_carries_status_in_one_datagram(path_listener: Listener) -> None:
    """READY=1 and the status line arrive together, so systemd never shows a stale status."""
    notifier = Notifier({"NOTIFY_SOCKET": path_listener.env_value})
    notifier.ready("3 shards, next cycle in 300 s")
    assert path_listener.receive() == {"READY": "1", "STATUS": "3 shards, next cycle in 300 s"}


def test_abstract_namespace_socket_is_reached(abstract_listener: Listener) -> None:
    """An `@name` socket (no file on disk) receives the notifications too."""
    notifier = Notifier({"NOTIFY_SOCKET": abstract_listener.env_value})
    notifier.watchdog()
    assert abstract_listener.receive() == {"WATCHDOG": "1"}


def test_reloading_sends_a_current_monotonic_timestamp(path_listener: Listener) -> None:
    """RELOADING=1 carries CLOCK_MONOTONIC in microseconds, as systemd ≥ 253 requires."""
    notifier = Notifier({"NOTIFY_SOCKET": path_listener.env_value})
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    notifier.reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    fields = path_listener.receive()
    assert fields["RELOADING"] == "1"
    assert before <= int(fields["MONOTONIC_USEC"]) <= after


def test_stopping_status_and_extend_timeout(path_listener: Listener) -> None:
    """STOPPING=1, STATUS= and EXTEND_TIMEOUT_USEC= reach systemd in the order sent."""
    notifier = Notifier({"NOTIFY_SOCKET": path_listener.env_value})
    notifier.status("migrating the state database")
    notifier.extend_timeout(90)
    notifier.stopping("finishing 4 in-flight writes")
    assert path_listener.receive() == {"STATUS": "migrating the state database"}
    assert path_listener.receive() == {"EXTEND_TIMEOUT_USEC": "90000000"}
    assert path_listener.receive() == {
        "STOPPING": "1",
        "STATUS": "finishing 4 in-flight writes",
    }


def test_a_newline_in_the_status_cannot_inject_a_field(path_listener: Listener) -> None:
    """A status text with a line break stays one STATUS field and never forges READY=1."""
    notifier = Notifier({"NOTIFY_SOCKET": path_listener.env_value})
    notifier.status("shard failed\nREADY=1")
    assert path_listener.receive() == {"STATUS": "shard failed READY=1"}


def test_without_notify_socket_everything_is_a_no_op() -> None:
    """Outside systemd nothing is sent, nothing fails and nothing is logged."""
    notifier = Notifier({})
    assert not notifier.enabled
    with capture_logs() as logs:
        notifier.ready("x")
        notifier.reloading()
        notifier.stopping()
        notifier.watchdog()
        notifier.status("y")
    assert logs == []
    assert notifier.watchdog_interval_s() is None


def test_a_vanished_socket_is_logged_once_not_raised(tmp_path: Path) -> None:
    """When the notify socket is gone the daemon goes on, with one warning in the log."""
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert notifier.enabled
    with capture_logs() as logs:
        for _ in range(3):
            notifier.watchdog()
    assert [entry["event"] for entry in logs] == ["notify.failed"]


def test_environment_is_read_at_construction_by_default(
    path_listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no mapping given, $NOTIFY_SOCKET from the process environment is used."""
    monkeypatch.setenv("NOTIFY_SOCKET", path_listener.env_value)
    Notifier().ready()
    assert path_listener.receive()["READY"] == "1"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "120000000"}, 60.0),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": str(os.getpid())}, 60.0),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdogsec(
    env: dict[str, str], expected: float | None
) -> None:
    """The ping interval is half of WatchdogSec=, and only for the process it was meant for."""
    assert Notifier(env).watchdog_interval_s() == expected


def test_a_child_process_reaches_the_socket(path_listener: Listener) -> None:
    """A separate process using Notifier from $NOTIFY_SOCKET is heard, as under systemd."""
    script = "from syncd.sdnotify import Notifier; n = Notifier(); n.ready('up'); n.stopping()"
    env = {**os.environ, "NOTIFY_SOCKET": path_listener.env_value}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=30)
    assert path_listener.receive() == {"READY": "1", "STATUS": "up"}
    assert path_listener.receive() == {"STOPPING": "1"}
    assert path_listener.nothing_pending()


def test_watchdog_pings_every_half_watchdog_sec_however_often_the_loop_pets(
    path_listener: Listener,
) -> None:
    """With WatchdogSec=10 the loop may wake every 0.5 s, but WATCHDOG=1 goes out at 0, 5
    and 10 s only: half the interval, as systemd advises."""
    now = [0.0]
    notifier = Notifier({"NOTIFY_SOCKET": path_listener.env_value, "WATCHDOG_USEC": "10000000"})
    pacer = WatchdogPacer(notifier, clock=lambda: now[0])
    sent = 0
    for tick in range(21):  # 0.0 .. 10.0 s in 0.5 s steps
        now[0] = tick * 0.5
        pacer.pet()
        while not path_listener.nothing_pending():
            sent += 1
    assert pacer.interval_s == 5.0 and sent == 3


def test_without_a_watchdog_interval_nothing_is_sent(path_listener: Listener) -> None:
    """No WATCHDOG_USEC (no WatchdogSec=): petting never sends a datagram."""
    pacer = WatchdogPacer(Notifier({"NOTIFY_SOCKET": path_listener.env_value}))
    pacer.pet()
    assert pacer.interval_s is None and path_listener.nothing_pending()
