"""HubSpot portals through the engine: what syncd decides and writes on real-shaped data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from syncd.config import ShardConfig
from tests.integration.hubspot.conftest import Portal
from tests.wiring import wire

FIRST_ID = 5001  # both portals number their records from here


def test_two_portals_with_the_same_record_ids_are_both_decided(
    make_portal: Callable[..., Portal], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each portal's lost deal gets its own thank-you task in its own portal, although
    both deals (and their contacts and companies) carry the same ids."""
    portals = {"hs_a": make_portal(first_id=FIRST_ID), "hs_b": make_portal(first_id=FIRST_ID)}
    deals = []
    for name, portal in portals.items():
        company = portal.company()
        contact = portal.contact(company, firstname=name)
        deals.append(portal.lost_deal([contact], company))
    assert deals[0] == deals[1]  # the vendor's ids collide across portals
    shards = {}
    for name, portal in portals.items():
        env = f"SYNCD_TEST_HUBSPOT_TOKEN_{name.upper()}"
        monkeypatch.setenv(env, portal.token)
        options = {"access_token": f"env:{env}", "create_properties": True}
        conn = portal.connect(name, **options)
        for check in conn.checks:  # what start-up does: the syncd_key task property
            check()
        shards[name] = (ShardConfig(type="hubspot"), portal.settings(**options), conn)
    wired = wire(tmp_path, shards)
    try:
        first = wired.cycle("hs_a", "hs_b")
        again = wired.cycle("hs_a", "hs_b")
    finally:
        wired.close()
    assert [(s.events, s.skipped) for s in first] == [(1, 0), (1, 0)]
    assert [s.writes["ok"] for s in first] == [1, 1]
    assert [s.events + s.writes["ok"] for s in again] == [0, 0]
    for portal in portals.values():
        assert len(portal.task_keys()) == 1
