"""Two daemons on one PostgreSQL state store: one works a shard, the other takes over.

Every wait is for something to happen (a write, a log line, an exit), never a fixed delay,
so a busy machine only makes the test slower, not wrong.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.acceptance.chaos import remote_writes
from tests.conftest import _reset_pg, fake_config, rejection

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _wait_for(what: str, done: Callable[[], bool], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "syncd.cli", "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_second_instance_takes_over_a_dead_ones_shard(
    tmp_path: Path, pg_database_url: str
) -> None:
    """While the first instance holds the lease the second stays idle; once the first is
    killed mid-write, the second takes the shard over after the lease expires and finishes
    the work — every touch written exactly once."""
    _reset_pg(pg_database_url)
    config = fake_config(
        tmp_path,
        [rejection(n) for n in range(40)],
        shard="batch_size = 2\nwrite_delay_s = 0.2\ntimeout_s = 1",
        extra="[daemon]\npoll_interval_s = 1",
        state_url=pg_database_url,
    )
    # a short lease so the takeover happens within the test (renewed every lease_s / 3 by
    # the heartbeat thread, however long a cycle takes); a write call (timeout_s) fits in it
    text = config.read_text()
    config.write_text(
        text.replace(f'url = "{pg_database_url}"', f'url = "{pg_database_url}"\nlease_s = 6')
    )
    remote = tmp_path / "remote.db"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _daemon(config, first_log)
    second = None
    try:
        _wait_for("the first writes", lambda: len(remote_writes(remote)) >= 4)
        second = _daemon(config, second_log)
        _wait_for(
            "the second to find the shard leased",
            lambda: b"shard.leased_elsewhere" in second_log.read_bytes(),
        )
        os.kill(first.pid, signal.SIGKILL)  # mid-write (or idle): its lease is not released
        first.wait(timeout=30)
        _wait_for("all 40 touches", lambda: len(set(remote_writes(remote))) >= 40, timeout_s=120)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
    log = second_log.read_text()
    assert "shard.acquired" in log
    written = Counter(remote_writes(remote))
    assert len(written) == 40, f"only {len(written)} of 40 touches written"
    assert max(written.values()) == 1, "a touch was written twice across the handover"
