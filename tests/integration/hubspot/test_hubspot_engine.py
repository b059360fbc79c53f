"""HubSpot portals through the engine: what syncd decides and writes on real-shaped data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.config import ShardConfig
from syncd_hubspot.schema import SYNCD_KEY
from tests.integration.hubspot.conftest import Portal
from tests.wiring import Wired, moment_where_calendars_differ, wire

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
        portal.add_syncd_key()
        options = {"access_token": f"env:{env}"}
        conn = portal.connect(name, **options)
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


def _one_portal(portal: Portal, tmp_path: Path, clock: datetime, **core: Any) -> Wired:
    options: dict[str, Any] = {"owner_timezones": core.pop("owner_timezones", {})}
    if SYNCD_KEY not in portal.fake.portal.schema["tasks"]:
        portal.add_syncd_key()
    conn = portal.connect("hs", **options)
    shard = (ShardConfig(type="hubspot", **core), portal.settings(**options), conn)
    return wire(tmp_path, {"hs": shard}, clock=lambda: clock)


def _tasks(portal: Portal) -> list[dict[str, Any]]:
    with portal.fake.lock:
        return [dict(r.props) for r in portal.fake.portal.records["tasks"].values()]


def _task_day(task: dict[str, Any]) -> date:
    return date.fromisoformat(str(task["hs_timestamp"])[:10])  # the portal stores ISO


def test_the_deal_owner_gets_the_task_in_their_own_calendar(portal: Portal, tmp_path: Path) -> None:
    """Deal owned by rep A, contact owned by the integration user: the task is A's, dated on
    A's business days (Tokyo), and `plan` names A as the owner."""
    rep = portal.fake.add_owner("rep-a@harborlight.example")
    integration = portal.fake.add_owner("integration@harborlight.example")
    company = portal.company()
    contact = portal.contact(company, hubspot_owner_id=integration)
    portal.lost_deal([contact], company, hubspot_owner_id=rep)
    clock, expected = moment_where_calendars_differ("Asia/Tokyo", None)

    preview = _one_portal(portal, tmp_path / "plan", clock, owner_timezones={rep: "Asia/Tokyo"})
    preview.engine.dry_run = True
    (planned,) = preview.engine.cycle("hs").planned
    preview.close()
    assert (planned["owner"], planned["owner_timezone"]) == (rep, "Asia/Tokyo")
    assert planned["owner_via"] == "record_owner"

    wired = _one_portal(portal, tmp_path, clock, owner_timezones={rep: "Asia/Tokyo"})
    try:
        wired.cycle("hs")
    finally:
        wired.close()
    (task,) = _tasks(portal)
    assert task["hubspot_owner_id"] == rep
    assert _task_day(task) == expected


def test_an_archived_deal_owner_falls_back_to_the_company_owner_then_the_named_user(
    portal: Portal, tmp_path: Path
) -> None:
    """A deactivated deal owner's task goes to the company's owner; with that one gone too,
    to the configured fallback owner."""
    gone = portal.fake.add_owner("left@harborlight.example", archived=True)
    account_owner = portal.fake.add_owner("am@harborlight.example")
    fallback = portal.fake.add_owner("sales-ops@harborlight.example")
    with_owner = portal.company(hubspot_owner_id=account_owner)
    portal.lost_deal([portal.contact(with_owner)], with_owner, hubspot_owner_id=gone)
    orphan = portal.company(name="Orphan Co", hubspot_owner_id=gone)
    portal.lost_deal([portal.contact(orphan)], orphan, hubspot_owner_id=gone)

    wired = _one_portal(portal, tmp_path, datetime.now(UTC), fallback_owner=fallback)
    try:
        wired.cycle("hs")
    finally:
        wired.close()
    assert sorted(t["hubspot_owner_id"] for t in _tasks(portal)) == sorted(
        [account_owner, fallback]
    )


def test_deals_without_contacts_go_to_the_active_contact_or_the_deal_owner(
    portal: Portal, tmp_path: Path
) -> None:
    """A lost deal naming nobody is followed up with its company's most recently active
    contact; with nobody active there, its owner gets "find the right person at ...". Both
    are counted; the company's contacts cost one association call for the whole page."""
    rep = portal.fake.add_owner("rep@harborlight.example")
    busy = portal.company(name="Busy Co")
    stale, active = portal.contact(busy), portal.contact(busy)
    now = datetime.now(UTC)
    with portal.fake.lock:
        records = portal.fake.portal.records["contacts"]
        for cid, days in ((stale, 400), (active, 10)):
            at = (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            portal.fake.portal.set_system(records[cid], notes_last_updated=at)
    portal.lost_deal([], busy, hubspot_owner_id=rep)
    empty = portal.company(name="Nobody Co")
    empty_deal = portal.lost_deal([], empty, hubspot_owner_id=rep)

    wired = _one_portal(portal, tmp_path, now)
    try:
        (summary,) = wired.cycle("hs")
    finally:
        wired.close()

    assert summary.contactless == {"recent_activity": 1, "account_plan": 1}
    tasks = _tasks(portal)
    assert {t["hubspot_owner_id"] for t in tasks} == {rep}
    (find,) = [t for t in tasks if t["hs_task_subject"].startswith("Find the right person")]
    assert find["hs_task_subject"] == "Find the right person at Nobody Co"
    with portal.fake.lock:
        linked = portal.fake.portal.associated("tasks", find["hs_object_id"], "deals")
        thanked = [
            t
            for t in portal.fake.portal.records["tasks"].values()
            if portal.fake.portal.associated("tasks", t.id, "contacts")
        ]
    assert list(linked) == [empty_deal]
    assert [list(portal.fake.portal.associated("tasks", t.id, "contacts")) for t in thanked] == [
        [active]
    ]
    company_reads = [r for r in portal.fake.served if "/companies/contacts/batch/read" in r.path]
    assert len(company_reads) == 2  # the fallback's, and the colleagues look-up of every page
