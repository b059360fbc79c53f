"""Through the Salesforce fake: a nurtured loss comes back months later, the nurture stops, and
the report attributes the new opportunity's amount to the touches and the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd import outcomes_report
from syncd.config import ShardConfig
from syncd_salesforce.sandbox import create_all
from syncd_salesforce.testkit import LocalOrg
from tests.wiring import wire


def test_a_new_opportunity_months_later_ends_the_nurture_and_is_attributed(
    org: LocalOrg, tmp_path: Path
) -> None:
    """Lost to a competitor; nurtured for four months; a new 80k opportunity opens on the
    account: the plan ends, no task follows, and the report credits the touches before it."""
    lost = org.closed_lost(reason="Lost to Competitor", competitor="Acme", amount=40_000.0)
    account = org.api.restful(f"sobjects/Opportunity/{lost}")["AccountId"]
    now = [datetime.now(UTC) + timedelta(hours=1)]
    conn = org.connector("sf")
    wired = wire(
        tmp_path,
        {"sf": (ShardConfig(type="salesforce"), org.settings(), conn)},
        clock=lambda: now[0],
    )
    start = now[0]
    try:
        for day in range(0, 120, 7):  # a cycle a week: touches are made as they fall due
            now[0] = start + timedelta(days=day)
            wired.cycle("sf")
        made_before = len(org.tasks())
        assert made_before >= 2, "thank-you and nurture touches were made"

        back_at = start + timedelta(days=120)
        with org.fake.org.clock_at(back_at):
            new = create_all(
                org.api,
                "Opportunity",
                [
                    {
                        "Name": "Second try",
                        "AccountId": account,
                        "StageName": "Prospecting",
                        "CloseDate": "2031-06-30",
                        "Amount": 80_000.0,
                        "OwnerId": org.rep,
                    }
                ],
            )[0]
        for day in (121, 160, 200, 300, 400):
            now[0] = start + timedelta(days=day)
            (summary,) = wired.cycle("sf")
            if day == 121:
                assert sum(summary.reengaged.values()) == 1
        assert len(org.tasks()) == made_before, "the nurture stopped: no task after it"
        rows = wired.store.reengagements(start, start + timedelta(days=500))
        nurtured = wired.store.nurtured_count(start + timedelta(days=500))
    finally:
        wired.close()

    (row,) = rows
    assert row["source_ref"] == new
    assert row["kind"] == "new_opportunity"
    assert row["amount"] == 80_000.0
    assert row["loss_reason"] == "competitor" and row["competitor"] == "Acme"
    assert row["worth_tier"] == ">=25000"
    last = row["attribution"]["last_touch"]
    assert last is not None and last["rule"]
    assert row["attribution"]["any_touch"], "touches within the window are listed"

    report = outcomes_report.summarise(rows, nurtured, start, start + timedelta(days=500))
    assert report["reengaged"] == 1 and report["pipeline"] == 80_000.0
    assert report["rate"] == 1.0
    assert report["by_loss_reason"] == [{"key": "competitor", "reengaged": 1, "pipeline": 80_000.0}]
    assert report["by_last_touch_rule"][0]["key"] == f"{last['kind']} ({last['rule']})"
    assert report["by_last_touch_rule"][0]["pipeline"] == 80_000.0
    assert 119 <= report["days_to_reengage"]["median"] <= 121
    text = outcomes_report.render(report)
    assert "competitor" in text and "80,000.00" in text
