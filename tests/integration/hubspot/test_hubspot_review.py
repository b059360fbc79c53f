"""A reply routed to review, end to end on the local HubSpot portal: the review task is a
real task, a rep completes it through hubspot-api-client, and the follow-up resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd.config import ShardConfig
from syncd.connectors import Connector
from syncd.model import Intent, ProspectRef, RejectionEvent, ReplyInfo, SourceKind
from syncd.testing.fakes import FakeSource
from syncd.testing.plugin import FakeSettings
from syncd_hubspot.schema import SYNCD_KEY_DEFINITION
from tests.conftest import Clock
from tests.integration.hubspot.conftest import Portal
from tests.wiring import wire

MAILBOX = "mail"


def _tasks(portal: Portal) -> list[tuple[str, dict[str, str]]]:
    with portal.fake.lock:
        return [(rid, dict(r.props)) for rid, r in portal.fake.portal.records["tasks"].items()]


def test_a_review_task_completed_in_hubspot_resumes_the_follow_up(
    portal: Portal, tmp_path: Path
) -> None:
    """The unsure reply becomes one HIGH-priority task; nothing else is written while held;
    once the rep completes the task, the next cycles plan and write again."""
    company = portal.company()
    contact = portal.contact(company)
    portal.lost_deal([contact], company)
    settings = portal.settings(find_grace_s=0.0)
    portal.client().crm.properties.core_api.create("tasks", SYNCD_KEY_DEFINITION)  # set-up
    crm = portal.connect(find_grace_s=0.0)
    for check in crm.checks:
        check()
    mailbox = FakeSource()
    fake = FakeSettings(events_file="-", remote_db="-")
    shards = {
        "hubspot": (ShardConfig(type="hubspot"), settings, crm),
        MAILBOX: (ShardConfig(type="fake", crm="hubspot"), fake, Connector(source=mailbox)),
    }
    clock = Clock(datetime.now(UTC) + timedelta(minutes=5))
    wired = wire(tmp_path, shards, clock=clock, store_clock=clock.ts, lease_s=3600)
    engine, store = wired.engine, wired.store

    def cycle() -> None:
        for shard in (MAILBOX, "hubspot"):  # the heartbeat's renewal, as the clock jumps
            assert store.renew_shard(shard, "test", engine.epochs[shard], 3600)
        engine.cycle(MAILBOX)
        engine.cycle("hubspot")

    cycle()
    assert len(_tasks(portal)) == 1  # the thank-you for the lost deal
    assert crm.directory is not None
    (person,) = crm.directory.prospects([ProspectRef("hubspot", "contact", contact)]).values()
    at = clock.now - timedelta(minutes=1)
    mailbox.events.append(
        RejectionEvent(
            "mail:msg:1",
            SourceKind.REPLY,
            at,
            person,
            position=at.isoformat(),
            reply=ReplyInfo(
                Intent.OPT_OUT,
                "<m1@example.com>",
                "T1",
                subject="Re: our call",
                confidence=0.4,
                review=True,
                review_reasons=("opt_out_net",),
                text="Bitte nichts mehr davon, oder doch im Herbst?",
            ),
        )
    )
    clock.now += timedelta(hours=1)
    cycle()
    (review_id, review) = next(
        (rid, p) for rid, p in _tasks(portal) if p["hs_task_subject"].startswith("Read this")
    )
    assert review["hs_task_priority"] == "HIGH" and review["hs_task_status"] == "NOT_STARTED"
    assert "Bitte nichts mehr davon" in review["hs_task_body"]
    for _ in range(14):  # six weeks of cycles: the person stays held
        clock.now += timedelta(days=3)
        cycle()
    assert len(_tasks(portal)) == 2
    assert store.held_for_review() == [f"hubspot:contact:{contact}"]

    portal.client().crm.objects.tasks.basic_api.update(
        review_id, {"properties": {"hs_task_status": "COMPLETED"}}
    )
    for _ in range(20):
        clock.now += timedelta(days=3)
        cycle()
    assert store.held_for_review() == []
    assert len(_tasks(portal)) > 2, "the follow-up resumed after the rep completed the task"
    store.close()
