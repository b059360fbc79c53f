"""Chaos with the real process: kill -9 in the middle of a first Salesforce backfill.

The local org runs in the test process; `syncd once` runs against it as its own process and
is killed twice: while its bulk jobs are still queued (their ids checkpointed in spill files),
then half-way through the pages (some decided and committed, the rest not). The org's bulk
clock is the test's, and a gate holds one request until the process is dead: no sleeps decide
where a kill lands. A clean run then finishes: every record decided once, one task per touch.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.sandbox import to_toml
from syncd_salesforce.testkit import CONSUMER_KEY, TEST_LEAD_MAP, USERNAME, LocalOrg, StepClock
from tests.acceptance.chaos import Gate, decisions, kill_at
from tests.conftest import _reset_pg as reset_pg

pytestmark = pytest.mark.slow
DEALS, LEADS, PAGE = 500, 250, 200  # four pages (page_size is at least 200)


@pytest.fixture
def org(tmp_path: Path) -> Iterator[LocalOrg]:
    (tmp_path / "org").mkdir()
    local = LocalOrg(tmp_path / "org")
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    """(store URL, where spill files belong): next to a SQLite file; on PostgreSQL, in the
    default state directory (a directory of it named for the database), which does not exist
    yet."""
    if request.param == "sqlite":
        (tmp_path / "state").mkdir()
        return f"sqlite:///{tmp_path / 'state' / 'state.db'}", tmp_path / "state"
    url: str = request.getfixturevalue("pg_database_url")
    reset_pg(url)
    return url, tmp_path / "xdg" / "syncd"


def _config(tmp_path: Path, org: LocalOrg, url: str) -> Path:
    shard = {
        "type": "salesforce",
        "auth": "jwt",
        "consumer_key": CONSUMER_KEY,
        "username": USERNAME,
        "private_key": f"file:{org.key_file}",
        "base_url": org.fake.base_url,
        "lead_statuses": TEST_LEAD_MAP,
        "bulk_threshold": LEADS,  # the deals go through bulk jobs, the leads through REST
        "bulk_poll_s": 0.01,
        "page_size": PAGE,
        "retry_base_s": 0.001,
    }
    config = {"state": {"url": url}, "engine": {"lag_s": 0}, "shards": {"sf": shard}}
    path = tmp_path / "syncd.toml"
    path.write_text(to_toml(config))
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "XDG_STATE_HOME": str(tmp_path / "xdg")}
    env.pop("STATE_DIRECTORY", None)
    return env


def _start(config: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    with (tmp_path / "runs.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "syncd.cli", "--config", str(config), "once"],
            stdout=out,
            stderr=out,
            env=_env(tmp_path),
        )


def test_kill_9_during_a_bulk_backfill_decides_every_record_once(
    org: LocalOrg, tmp_path: Path, state: tuple[str, Path]
) -> None:
    """Killed with its bulk jobs queued, then killed with part of the pages committed, a
    restarted `syncd once` decides each deal and lead exactly once, writes each task once,
    starts no bulk job again and leaves no spill file behind."""
    org.closed_lost_many(DEALS)
    for _ in range(LEADS):
        org.lead("Unqualified")
    (tmp_path / "tmp").mkdir()
    url, state_dir = state
    config = _config(tmp_path, org, url)
    clock = StepClock()
    org.fake.clock = clock
    org.fake.bulk.queue_s = 30.0  # queued until the test's clock moves

    queued = Gate(r"/jobs/query/\w+$", nth=2)  # polled twice: every job created, none done
    org.fake.inject(queued)
    kill_at(_start(config, tmp_path), queued, url)
    assert org.fake.count("POST", r"/jobs/query$") == 3
    assert list(state_dir.rglob("salesforce-backfill-*"))  # the jobs are checkpointed
    assert not decisions(url)

    clock.sleep(60)  # the jobs complete
    # A call for the last page's lookups, made once a page is decided (the reader is at most
    # two pages ahead of the decisions, and there are four).
    half_way = Gate(r"/query", ready=lambda: bool(decisions(url)))
    org.fake.inject(half_way)
    kill_at(_start(config, tmp_path), half_way, url)
    assert 0 < sum(decisions(url).values()) < DEALS + LEADS

    done = subprocess.run(
        [sys.executable, "-m", "syncd.cli", "--config", str(config), "once"],
        capture_output=True,
        timeout=120,
        env=_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    decided = decisions(url)
    assert len(decided) == DEALS + LEADS, "a record was never decided"
    assert {k for k, n in decided.items() if n > 1} == set(), "a record was decided twice"
    keys = Counter(t.get("Syncd_Key__c") for t in org.tasks())
    assert keys and {k for k, n in keys.items() if n > 1} == set(), "a task was written twice"
    assert org.fake.count("POST", r"/jobs/query$") == 3, "a bulk job was started again"
    assert not list(state_dir.rglob("salesforce-backfill-*")), "spill files were left"
    assert not list((tmp_path / "tmp").iterdir()), "temporary files were left"
