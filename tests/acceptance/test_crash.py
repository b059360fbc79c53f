"""Crash safety: the real daemon process is SIGKILLed mid-write, again and again.

The remote system is the file-backed `fake` connector, which records every applied write
and pauses after applying each batch — so a kill in that pause loses the response of a write
that was made. After the kills, a clean run must leave every touch written exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.acceptance.chaos import remote_writes, start_once
from tests.conftest import fake_config, rejection

pytestmark = pytest.mark.slow
PROSPECTS = 120


def test_sigkill_between_intent_and_response_never_duplicates_or_loses(tmp_path: Path) -> None:
    """After many kills at random points and right after a write was applied, a clean run
    leaves each due touch written exactly once: no duplicate, no loss."""
    remote = tmp_path / "remote.db"
    state = tmp_path / "state.db"
    config = fake_config(
        tmp_path,
        [rejection(n) for n in range(PROSPECTS)],
        shard="batch_size = 4\nwrite_delay_s = 0.15",
    )
    log = tmp_path / "runs.log"
    rng = random.Random(20261123)
    kills = 0
    for round_no in range(12):
        before = len(remote_writes(remote))
        proc = start_once(config, log)
        deadline = time.monotonic() + 20
        if round_no % 2 == 0:
            # right after a batch was applied: the response is in flight
            while len(remote_writes(remote)) == before and proc.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
        else:
            time.sleep(rng.uniform(0.3, 2.0))  # anywhere: reading, deciding, claiming
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    for _ in range(2):  # clean runs finish the work
        done = subprocess.run(
            [sys.executable, "-m", "syncd.cli", "--config", str(config), "once", "--json"],
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    summary = json.loads(done.stdout)
    assert summary["shards"]["crm"]["writes"]["dead"] == 0

    with sqlite3.connect(remote) as db:
        written = Counter(k for (k,) in db.execute("SELECT key FROM writes"))
    engine = sa.create_engine(f"sqlite:///{state}")
    with engine.connect() as conn:
        outbox = dict(conn.execute(sa.text("SELECT key, status FROM outbox")).all())
    engine.dispose()
    assert kills >= 8, "the test must actually interrupt the daemon"
    assert "write.recovered_in_doubt" in log.read_text(), "no kill landed mid-write"
    duplicates = {k: n for k, n in written.items() if n > 1}
    assert duplicates == {}, f"{len(duplicates)} touch(es) written more than once"
    assert set(outbox.values()) == {"done"}, Counter(outbox.values())
    assert set(written) == set(outbox), "a touch was lost or written without a record"
    assert len(outbox) == PROSPECTS  # one acknowledgement per prospect
