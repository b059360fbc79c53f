"""Chaos with the real process: kill -9 right after a write was applied, while the remote's
search index lags behind its writes.

The file-backed `fake` remote shows a write to `find` only `find_lag_s` after applying it.
A restarted syncd must not look its interrupted writes up before the grace period (counted
from when each write was attempted) has passed, or it would find nothing and send them again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.acceptance.chaos import (
    SCALE,
    duplicates_and_losses,
    outbox_keys,
    remote_writes,
    start_once,
)
from tests.conftest import fake_config, rejection

pytestmark = pytest.mark.slow


def test_kill_9_after_applied_writes_with_index_lag_neither_duplicates_nor_loses(
    tmp_path: Path,
) -> None:
    """Each run is killed the moment a batch lands remotely (its answer is lost); restarts
    come at once, well inside the index lag. Afterwards every touch is there exactly once."""
    prospects = 24 * SCALE
    config = fake_config(
        tmp_path,
        [rejection(n) for n in range(prospects)],
        shard="batch_size = 4\nwrite_delay_s = 0.3\nfind_lag_s = 1.5\nfind_grace_s = 6",
    )
    remote, log = tmp_path / "remote.db", tmp_path / "runs.log"
    kills = 0
    for _ in range(4 * SCALE):
        before = len(remote_writes(remote))
        proc = start_once(config, log)
        deadline = time.monotonic() + 60
        while len(remote_writes(remote)) == before and proc.poll() is None:
            assert time.monotonic() < deadline, "no batch was written"
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)  # applied, answer not yet recorded
            kills += 1
        proc.wait(timeout=30)
    assert kills >= 2, "the test must actually interrupt writes"
    state = f"sqlite:///{tmp_path / 'state.db'}"
    for _ in range(40):  # clean runs until the in-doubt writes were looked up and settled
        done = subprocess.run(
            [sys.executable, "-m", "syncd.cli", "--config", str(config), "once"],
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        if set(outbox_keys(state).values()) == {"done"}:
            break
        time.sleep(0.5)  # the grace period is wall time: let it pass between runs
    outbox = outbox_keys(state)
    assert "write.recovered_in_doubt" in log.read_text()
    duplicates, losses = duplicates_and_losses(remote_writes(remote), outbox)
    assert (duplicates, losses) == (0, 0), f"{duplicates} duplicate(s), {losses} lost"
    assert set(outbox.values()) == {"done"}
    assert len(outbox) == prospects
