"""People deleted or merged away in Salesforce after syncd planned their follow-up."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd.config import ShardConfig
from syncd_salesforce.testkit import LocalOrg
from tests.wiring import wire


def test_a_contact_deleted_after_the_plan_gets_no_more_writes_and_no_dead_letters(
    org: LocalOrg, tmp_path: Path
) -> None:
    """Two lost deals are planned; one contact is then deleted (an erasure request). Over the
    next months every touch about them is cancelled as gone instead of being sent and
    dead-lettered each time, while the other contact's touches keep being written."""
    kept_opp, gone_opp = org.closed_lost(), org.closed_lost()
    roles = org.api.query_all("SELECT OpportunityId, ContactId FROM OpportunityContactRole")
    roles = roles["records"]
    contact_of = {r["OpportunityId"]: r["ContactId"] for r in roles}
    now = [datetime.now(UTC) + timedelta(hours=1)]
    conn = org.connector("sf")
    for check in conn.checks:
        check()
    wired = wire(
        tmp_path,
        {"sf": (ShardConfig(type="salesforce"), org.settings(), conn)},
        clock=lambda: now[0],
    )
    cancelled, writes = 0, Counter[str]()
    try:
        wired.cycle("sf")
        first = Counter(t["WhoId"] for t in org.tasks())
        org.api.Contact.delete(contact_of[gone_opp])
        for _ in range(40):  # about seven months, a cycle every five days
            now[0] += timedelta(days=5)
            (summary,) = wired.cycle("sf")
            cancelled += summary.cancelled
            writes.update(summary.writes)
        dead = wired.store.dead_letters(limit=None)
    finally:
        wired.close()
    later = Counter(t["WhoId"] for t in org.tasks()) - first
    assert dead == [] and writes["dead"] == 0
    assert cancelled > 0
    assert later[contact_of[gone_opp]] == 0
    assert later[contact_of[kept_opp]] > 0
