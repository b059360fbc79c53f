"""Through the HubSpot fake: a nurtured lost deal comes back months later as a new deal, the
nurture stops, and the report attributes the new deal's amount to the touches and the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd import outcomes_report
from syncd.config import ShardConfig
from syncd_hubspot.schema import SYNCD_KEY
from tests.integration.hubspot.conftest import Portal
from tests.wiring import wire


def _tasks(portal: Portal) -> list[dict[str, Any]]:
    with portal.fake.lock:
        return [dict(r.props) for r in portal.fake.portal.records["tasks"].values()]


def test_a_new_deal_months_later_ends_the_nurture_and_is_attributed(
    portal: Portal, tmp_path: Path
) -> None:
    """Lost on budget; nurtured for four months; a new 60k deal opens at the company: the plan
    ends, no task follows, and the report credits the touches and the rule before it."""
    rep = portal.fake.add_owner("rep@harborlight.example")
    company = portal.company()
    contact = portal.contact(company)
    portal.lost_deal(
        [contact], company, hubspot_owner_id=rep, amount="40000", closed_lost_reason="Budget"
    )
    if SYNCD_KEY not in portal.fake.portal.schema["tasks"]:
        portal.add_syncd_key()
    now = [datetime.now(UTC) + timedelta(hours=1)]
    conn = portal.connect("hs")
    wired = wire(
        tmp_path,
        {"hs": (ShardConfig(type="hubspot"), portal.settings(), conn)},
        clock=lambda: now[0],
    )
    start = now[0]
    try:
        for day in range(0, 120, 7):
            now[0] = start + timedelta(days=day)
            wired.cycle("hs")
        made_before = len(_tasks(portal))
        assert made_before >= 2, "thank-you and nurture touches were made"

        new = portal.fake.seed(
            "deals",
            {"dealstage": "appointmentscheduled", "dealname": "Second try", "amount": "60000"},
            [("companies", company)],
            modified_at=start + timedelta(days=120),
        )
        for day in (121, 160, 200, 300, 400):
            now[0] = start + timedelta(days=day)
            (summary,) = wired.cycle("hs")
            if day == 121:
                assert sum(summary.reengaged.values()) == 1
        assert len(_tasks(portal)) == made_before, "the nurture stopped: no task after it"
        rows = wired.store.reengagements(start, start + timedelta(days=500))
        nurtured = wired.store.nurtured_count(start + timedelta(days=500))
    finally:
        wired.close()

    (row,) = rows
    assert (row["source_ref"], row["kind"], row["amount"]) == (new, "new_opportunity", 60_000.0)
    assert row["loss_reason"] == "budget"
    assert row["worth_tier"] == ">=25000"
    last = row["attribution"]["last_touch"]
    assert last is not None and last["rule"]

    report = outcomes_report.summarise(rows, nurtured, start, start + timedelta(days=500))
    assert (report["reengaged"], report["pipeline"], report["rate"]) == (1, 60_000.0, 1.0)
    assert report["by_worth_tier"] == [{"key": ">=25000", "reengaged": 1, "pipeline": 60_000.0}]
    assert report["by_owner"][0]["key"] == rep
    by_rule = {g["key"]: g["pipeline"] for g in report["by_any_touch"]}
    assert by_rule and all(amount == 60_000.0 for amount in by_rule.values())
