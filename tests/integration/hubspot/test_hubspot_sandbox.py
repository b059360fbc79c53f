"""The HubSpot part of the sandbox: a seeded portal and a config section that works on it."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncd.connectors import SandboxShard, ShardContext
from syncd.model import Channel, SourceKind
from syncd.testing.demo_data import demo_world
from syncd_hubspot import plugin
from syncd_hubspot.sandbox import ENTERPRISE_PIPELINE
from syncd_hubspot.settings import HubSpotSettings


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxShard]:
    shard = plugin.sandbox.start(
        port=0, seed="demo", workdir=tmp_path_factory.mktemp("sandbox"), crm_shards={}
    )
    yield shard
    shard.stop()


def settings_of(shard: SandboxShard) -> HubSpotSettings:
    assert shard.section["type"] == "hubspot"
    return HubSpotSettings(**{k: v for k, v in shard.section.items() if k != "type"})


def test_demo_portal_holds_the_hubspot_half_of_the_demo_world(demo: SandboxShard) -> None:
    """Companies, contacts and closed-lost deals of the demo world, deals in two pipelines."""
    world = demo_world().for_crm("hubspot")
    fake = plugin.sandbox.fake_at(demo.base_url)
    records = fake.portal.records
    assert (len(records["companies"]), len(records["contacts"]), len(records["deals"])) == (
        len(world.companies),
        len(world.people),
        len(world.deals),
    )
    pipelines = Counter(d.props["pipeline"] for d in records["deals"].values())
    assert set(pipelines) == {"default", ENTERPRISE_PIPELINE}


def test_demo_shard_reads_and_passes_doctor(demo: SandboxShard) -> None:
    """The section validates, doctor finds nothing wrong, and a read yields lost deals from
    both pipelines and rejected leads, with opt-outs visible on the people."""
    assert demo.name == "hubspot"
    settings = settings_of(demo)
    assert all(c.ok for c in plugin.doctor(settings))
    conn = plugin.open(ShardContext("hubspot", settings, Path("/nonexistent")))
    for check in conn.checks:
        check()
    assert conn.source is not None
    events = [
        e for p in conn.source.read(None, datetime.now(UTC) + timedelta(days=1)) for e in p.events
    ]

    world = demo_world().for_crm("hubspot")
    kinds = Counter(e.source for e in events)
    assert kinds[SourceKind.OPPORTUNITY] == len(world.deals)
    assert kinds[SourceKind.LEAD] == len(world.leads)
    people = [e.prospect for e in events] + [r for e in events for r in e.related]
    channels = Counter(c for p in people for c in p.opted_out)
    assert channels[Channel.EMAIL] > 0 and channels[Channel.PHONE] > 0
    assert any(e.competitor for e in events)


def test_secrets_are_files_only_the_owner_reads(demo: SandboxShard) -> None:
    """The token is referenced as a 0600 file, never written into the section."""
    reference = demo.section["access_token"]
    assert reference.startswith("file:")
    path = Path(reference.removeprefix("file:"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() not in str(demo.section)


def test_empty_portal_reads_nothing(tmp_path: Path) -> None:
    """An empty sandbox still works: no events, no errors."""
    shard = plugin.sandbox.start(port=0, seed="empty", workdir=tmp_path, crm_shards={})
    try:
        conn = plugin.open(ShardContext("hubspot", settings_of(shard), tmp_path))
        assert conn.source is not None
        assert list(conn.source.read(None, datetime.now(UTC))) == []
    finally:
        shard.stop()


def test_syncd_demo_reports_the_hubspot_shard() -> None:
    """`syncd demo --json` runs a cycle on the seeded portal and reports the hubspot shard."""
    program = "import sys; from syncd.cli import main; sys.exit(main(['demo', '--json']))"
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=300, check=True
    )
    shard = json.loads(done.stdout)["shards"]["hubspot"]
    world = demo_world().for_crm("hubspot")
    assert shard["events"] == len(world.deals) + len(world.leads)
    assert shard["writes"]["ok"] > 0 and shard["writes"]["dead"] == 0
