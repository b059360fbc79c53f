"""`syncd run` as systemd runs it: notify socket, watchdog, SIGHUP reload, SIGTERM stop."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.chaos import remote_writes
from tests.conftest import fake_config, rejection

pytestmark = pytest.mark.slow


class NotifySocket:
    def __init__(self, path: Path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[str] = []

    def wait_for(self, needle: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for msg in self.messages:
                if needle in msg:
                    self.messages.remove(msg)
                    return msg
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
        raise AssertionError(f"no {needle!r} within {timeout}s; got {self.messages}")


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Path, NotifySocket]]:
    config = fake_config(
        tmp_path, [rejection(n) for n in range(5)], extra="[daemon]\npoll_interval_s = 3600"
    )
    notify = NotifySocket(tmp_path / "notify.sock")
    yield config, notify
    notify.sock.close()


def _start(config: Path, notify_path: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "2000000"}
    return subprocess.Popen(
        [sys.executable, "-m", "syncd.cli", "--config", str(config), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_daemon_speaks_the_notify_protocol_through_its_life(
    setup: tuple[Path, NotifySocket],
) -> None:
    """READY after start-up, WATCHDOG from the loop, RELOADING then READY around SIGHUP,
    STOPPING on SIGTERM, and exit status 0 — with the cycle's writes made."""
    config, notify = setup
    proc = _start(config, notify.sock.getsockname())
    try:
        assert "READY=1" in notify.wait_for("READY=1")
        notify.wait_for("WATCHDOG=1")
        deadline = time.monotonic() + 30
        remote = config.parent / "remote.db"
        while time.monotonic() < deadline:  # the first cycle runs right after READY
            if (
                remote.exists()
                and sqlite3.connect(remote).execute("SELECT COUNT(*) FROM writes").fetchone()[0]
                == 5
            ):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the first cycle did not write the 5 acknowledgements")
        proc.send_signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING=1")
        assert "MONOTONIC_USEC=" in reloading
        notify.wait_for("READY=1")
        proc.send_signal(signal.SIGTERM)
        notify.wait_for("STOPPING=1")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    out = proc.stdout.read() if proc.stdout else ""
    assert '"event": "config.reloaded"' in out and '"event": "daemon.stopped"' in out


def test_invalid_config_on_reload_keeps_the_old_one(setup: tuple[Path, NotifySocket]) -> None:
    """A SIGHUP with a broken file logs the problems and goes on with the previous config."""
    config, notify = setup
    proc = _start(config, notify.sock.getsockname())
    try:
        notify.wait_for("READY=1")
        good = config.read_text()
        config.write_text(good + "\n[engine]\nbogus = 1\n")
        proc.send_signal(signal.SIGHUP)
        notify.wait_for("RELOADING=1")
        assert "STATUS=reload failed" in notify.wait_for("READY=1")
        notify.wait_for("WATCHDOG=1")  # still looping
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    out = proc.stdout.read() if proc.stdout else ""
    assert '"event": "config.reload_failed"' in out


def test_broken_config_at_start_exits_78(tmp_path: Path) -> None:
    """systemd's RestartPreventExitStatus=78 relies on a bad config exiting 78."""
    config = tmp_path / "syncd.toml"
    config.write_text("[daemon]\npoll_interval_s = -1\n")
    run = subprocess.run(
        [sys.executable, "-m", "syncd.cli", "--config", str(config), "run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 78
    assert "daemon.poll_interval_s" in run.stderr


def test_sigterm_lets_the_batch_in_hand_finish(tmp_path: Path) -> None:
    """SIGTERM during writes: the batch being sent completes and is recorded, nothing is
    left in flight, and the process exits 0 well before the work would have finished."""
    config = fake_config(
        tmp_path, [rejection(n) for n in range(30)], shard="batch_size = 2\nwrite_delay_s = 0.3"
    )
    state = tmp_path / "state.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncd.cli", "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    remote = tmp_path / "remote.db"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(remote_writes(remote)) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    with sqlite3.connect(state) as db:
        statuses = dict(
            db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()
        )
    with sqlite3.connect(remote) as db:
        written = db.execute("SELECT COUNT(*) FROM writes").fetchone()[0]
    assert "inflight" not in statuses and "in_doubt" not in statuses
    assert statuses.get("done") == written < 30  # stopped early, every applied write recorded


def test_running_daemon_serves_metrics_and_readiness(
    tmp_path: Path, setup: tuple[Path, NotifySocket]
) -> None:
    """With [metrics] listen set, /metrics reflects the first cycle and /readyz says ready."""
    import json
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    config, notify = setup
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config.write_text(config.read_text() + f'\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
    proc = _start(config, notify.sock.getsockname())
    try:
        notify.wait_for("READY=1")
        deadline = time.monotonic() + 30
        ok = 0.0
        while time.monotonic() < deadline and ok < 5:
            time.sleep(0.2)
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
            for family in text_string_to_metric_families(text.decode()):
                for sample in family.samples:
                    if sample.name == "syncd_writes_total" and sample.labels.get("result") == "ok":
                        ok = sample.value
        assert ok == 5
        ready = urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status == 200 and json.loads(ready.read())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
