"""Kill -9 of the real process half-way through a first read of a portal's search pages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from syncd.sandbox import to_toml
from tests.acceptance.chaos import Gate, decisions, kill_at

if TYPE_CHECKING:
    from conftest import Portal

TOKEN_ENV = "SYNCD_TEST_HUBSPOT_TOKEN"  # the portal fixture puts its private-app token there

DEALS, PAGE = 48, 10


def test_kill_9_mid_search_paging_decides_every_deal_once(portal: Portal, tmp_path: Path) -> None:
    """`syncd once` is killed while it asks for a later search page, some pages decided and
    committed; a restart decides each lost deal exactly once and writes each task once."""
    portal.add_syncd_key()
    for _ in range(DEALS):
        portal.lost_deal([portal.contact(portal.company())])
    url = f"sqlite:///{tmp_path / 'state.db'}"
    shard = {
        "type": "hubspot",
        "access_token": f"env:{TOKEN_ENV}",
        "base_url": portal.fake.base_url,
        "page_size": PAGE,
        "read_batch": 2 * PAGE,  # search pages asked for between decided pages
        "search_rate_per_s": 5.0,
    }
    config = tmp_path / "syncd.toml"
    config.write_text(
        to_toml({"state": {"url": url}, "engine": {"lag_s": 0}, "shards": {"hubspot": shard}})
    )
    command = [sys.executable, "-m", "syncd.cli", "--config", str(config), "once"]
    # The third search (hits 41-48) is asked for once the reader, at most two pages ahead of
    # the decisions, has handed out the fourth page: the first two are decided by then.
    gate = Gate(r"/deals/search$", ready=lambda: bool(decisions(url)))
    portal.fake.inject(gate)
    with (tmp_path / "run.log").open("ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=out, env=dict(os.environ))
    kill_at(proc, gate, url)
    assert 0 < sum(decisions(url).values()) < DEALS

    done = subprocess.run(command, capture_output=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    decided = decisions(url)
    assert len(decided) == DEALS, "a deal was never decided"
    assert {k for k, n in decided.items() if n > 1} == set(), "a deal was decided twice"
    keys = Counter(portal.task_keys())
    assert keys and {k for k, n in keys.items() if n > 1} == set(), "a task was written twice"
