"""A Salesforce org through the engine: who gets the task, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.config import ShardConfig
from syncd_salesforce.sandbox import create_all
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


def _lost_without_roles(org: LocalOrg, account: str, **fields: Any) -> str:
    opp = create_all(
        org.api,
        "Opportunity",
        [
            {
                "Name": "Renewal",
                "AccountId": account,
                "StageName": "Proposal",
                "CloseDate": "2030-01-31",
                "Amount": 30_000.0,
                "OwnerId": org.rep,
                **fields,
            }
        ],
    )[0]
    org.api.restful(
        f"sobjects/Opportunity/{opp}", method="PATCH", json={"StageName": "Closed Lost"}
    )
    return opp


def test_losses_without_contact_roles_fall_back_in_order_and_are_counted(
    org: LocalOrg, tmp_path: Path
) -> None:
    """Four lost deals without contact roles: the deal's own contact, the account's recently
    active contact, its primary contact, and else a "find the right person" task for the
    deal's owner. Each is counted by fallback; the look-ups cost one query each."""
    own_account = org.account(Name="Own Contact Co")
    (own,) = org.contacts(own_account, 1)
    _lost_without_roles(org, own_account, ContactId=own)
    busy_account = org.account(Name="Busy Co")
    _idle, busy = org.contacts(busy_account, 2)
    org.fake.log_activity(busy, (datetime.now(UTC) - timedelta(days=20)).date().isoformat())
    _lost_without_roles(org, busy_account)
    primary_account = org.account(Name="Primary Co")
    (primary,) = org.contacts(primary_account, 1)
    create_all(
        org.api,
        "AccountContactRole",
        [{"AccountId": primary_account, "ContactId": primary, "IsPrimary": True}],
    )
    _lost_without_roles(org, primary_account)
    empty_account = org.account(Name="Nobody Co")
    empty_deal = _lost_without_roles(org, empty_account)

    wired = _wired(org, tmp_path, datetime.now(UTC) + timedelta(hours=1))
    try:
        (summary,) = wired.cycle("sf")
        counts = wired.store.contactless_counts("sf")
    finally:
        wired.close()

    expected = {
        "opportunity_contact": 1,
        "recent_activity": 1,
        "primary_contact": 1,
        "account_plan": 1,
    }
    assert summary.contactless == expected
    assert counts == expected
    tasks = org.tasks()
    who = {t["WhoId"] for t in tasks if t["WhoId"]}
    assert who == {own, busy, primary}
    (find,) = [t for t in tasks if not t["WhoId"]]
    assert find["Subject"] == "Find the right person at Nobody Co"
    assert (find["WhatId"], find["OwnerId"]) == (empty_deal, org.rep)
    lookups = [q for q in org.fake.soql_log if "LastActivityDate >=" in q]
    lookups += [q for q in org.fake.soql_log if "FROM AccountContactRole" in q]
    assert len(lookups) == 2
