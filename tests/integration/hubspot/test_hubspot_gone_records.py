"""Contacts deleted or merged away in HubSpot after syncd planned their follow-up."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd.config import ShardConfig
from tests.integration.hubspot.conftest import Portal
from tests.wiring import wire


def _task_contacts(portal: Portal) -> Counter[str]:
    with portal.fake.lock:
        tasks = list(portal.fake.portal.records["tasks"])
        links = [portal.fake.portal.associated("tasks", t, "contacts") for t in tasks]
    return Counter(contact for link in links for contact in link)


def test_a_contact_deleted_after_the_plan_gets_no_more_writes_and_no_dead_letters(
    portal: Portal, tmp_path: Path
) -> None:
    """Two lost deals are planned; one contact is then deleted. Over the next months every
    touch about them is cancelled as gone instead of failing and being dead-lettered, while
    the other contact's touches keep being written."""
    kept, gone = portal.contact(portal.company()), portal.contact(portal.company())
    portal.lost_deal([kept])
    portal.lost_deal([gone])
    portal.add_syncd_key()
    now = [datetime.now(UTC) + timedelta(hours=1)]
    conn = portal.connect("hs")
    wired = wire(
        tmp_path,
        {"hs": (ShardConfig(type="hubspot"), portal.settings(), conn)},
        clock=lambda: now[0],
    )
    cancelled, dead_writes = 0, 0
    try:
        wired.cycle("hs")
        first = _task_contacts(portal)
        with portal.fake.lock:
            assert portal.fake.portal.archive("contacts", gone)
        for _ in range(40):  # about seven months, a cycle every five days
            now[0] += timedelta(days=5)
            (summary,) = wired.cycle("hs")
            cancelled += summary.cancelled
            dead_writes += summary.writes["dead"]
        dead = wired.store.dead_letters(limit=None)
    finally:
        wired.close()
    later = _task_contacts(portal) - first
    assert dead == [] and dead_writes == 0
    assert cancelled > 0
    assert later[gone] == 0 and later[kept] > 0
