"""A Salesforce org through the engine: who gets the task, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.config import ShardConfig
from syncd_salesforce.testkit import LocalOrg
from tests.wiring import Wired, moment_where_calendars_differ, wire


def _wired(org: LocalOrg, tmp_path: Path, clock: datetime, **core: Any) -> Wired:
    conn = org.connector("sf")
    for check in conn.checks:
        check()
    shard = (ShardConfig(type="salesforce", **core), org.settings(), conn)
    return wire(tmp_path, {"sf": shard}, clock=lambda: clock)


def test_the_opportunity_owner_gets_the_task_in_their_own_calendar(
    org: LocalOrg, tmp_path: Path
) -> None:
    """Opportunity owned by rep A, its contact owned by the integration user: the task is
    A's, dated on A's business days (Tokyo), not the integration user's or UTC's."""
    rep = org.fake.add_user("Aiko Rep", "Asia/Tokyo")
    org.closed_lost(owner=rep)
    clock, expected = moment_where_calendars_differ("Asia/Tokyo", "DE")
    wired = _wired(org, tmp_path, clock)
    try:
        wired.cycle("sf")
    finally:
        wired.close()
    (task,) = org.tasks()
    assert task["OwnerId"] == rep
    assert task["ActivityDate"] == expected


def test_a_deactivated_owner_falls_back_to_the_account_owner_then_the_named_user(
    org: LocalOrg, tmp_path: Path
) -> None:
    """A rep who left keeps owning the lost deal; the task goes to the account's owner, and
    where that one left too, to the configured fallback user."""
    gone = org.fake.add_user("Left Rep", "Europe/Paris")
    manager = org.fake.add_user("Account Manager", "Europe/Berlin")
    ops = org.fake.add_user("Sales Ops", "America/Chicago")
    org.closed_lost(owner=gone, account={"OwnerId": manager})
    org.closed_lost(owner=gone, account={"OwnerId": gone})
    org.fake.deactivate_user(gone)
    wired = _wired(org, tmp_path, datetime.now(UTC) + timedelta(hours=1), fallback_owner=ops)
    try:
        wired.cycle("sf")
    finally:
        wired.close()
    assert sorted(t["OwnerId"] for t in org.tasks()) == sorted([manager, ops])
