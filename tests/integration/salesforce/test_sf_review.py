"""A reply routed to review, end to end on the local Salesforce: the review task is a real
Task, a rep completes it through simple-salesforce, and the follow-up resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd.config import ShardConfig
from syncd.connectors import Connector
from syncd.engine import Engine
from syncd.model import Intent, ProspectRef, RejectionEvent, ReplyInfo, SourceKind
from syncd.testing.fakes import FakeSource
from syncd.testing.plugin import FakeSettings
from syncd_salesforce.testkit import LocalOrg
from tests.conftest import Clock
from tests.wiring import wire

MAILBOX = "mail"


def _engine(org: LocalOrg, tmp_path: Path, mailbox: FakeSource, clock: Clock) -> Engine:
    fake = FakeSettings(events_file="-", remote_db="-")
    shards = {
        "sf": (
            ShardConfig(type="salesforce"),
            org.settings(),
            org.connector(sleep=lambda _s: None),
        ),
        MAILBOX: (ShardConfig(type="fake", crm="sf"), fake, Connector(source=mailbox)),
    }
    return wire(tmp_path, shards, clock=clock, store_clock=clock.ts, lease_s=3600).engine


def _cycle(engine: Engine) -> None:
    for shard in (MAILBOX, "sf"):  # the heartbeat's renewal, as the clock jumps
        assert engine.store.renew_shard(shard, "test", engine.epochs[shard], 3600)
    engine.cycle(MAILBOX)
    engine.cycle("sf")  # writes what the mailbox's plans asked of the CRM


def _tasks(org: LocalOrg, contact: str) -> list[dict[str, object]]:
    return [t for t in org.tasks() if t["WhoId"] == contact]


def test_a_review_task_completed_in_salesforce_resumes_the_follow_up(
    org: LocalOrg, tmp_path: Path
) -> None:
    """The unsure reply becomes one High-priority Task quoting it; nothing else is written for
    six weeks; once the rep completes the Task, the next cycles plan and write again."""
    org.closed_lost(reason="Timing")
    (contact,) = [c["Id"] for c in org.fake.org.records["Contact"].values()]
    clock = Clock(datetime.now(UTC) + timedelta(minutes=5))
    mailbox = FakeSource()
    engine = _engine(org, tmp_path, mailbox, clock)
    _cycle(engine)
    assert len(_tasks(org, contact)) == 1  # the thank-you for the lost deal

    at = clock.now - timedelta(minutes=1)
    directory = engine.directory("sf")
    assert directory is not None
    person = directory.prospects([ProspectRef("sf", "contact", contact)])
    mailbox.events.append(
        RejectionEvent(
            "mail:msg:1",
            SourceKind.REPLY,
            at,
            next(iter(person.values())),
            position=at.isoformat(),
            reply=ReplyInfo(
                Intent.NOT_INTERESTED,
                "<m1@example.com>",
                "T1",
                subject="Re: our call",
                confidence=0.35,
                review=True,
                review_reasons=("no_cue",),
                text="We already have someone for that.",
            ),
        )
    )
    clock.now += timedelta(hours=1)
    _cycle(engine)
    (review,) = [t for t in _tasks(org, contact) if str(t["Subject"]).startswith("Read this")]
    assert review["Priority"] == "High" and review["Status"] == "Not Started"
    assert "We already have someone for that." in str(review["Description"])
    assert engine.store.held_for_review(MAILBOX) == [f"sf:contact:{contact}"]

    for _ in range(14):  # six weeks of cycles, every three days: the person stays held
        clock.now += timedelta(days=3)
        _cycle(engine)
    assert len(_tasks(org, contact)) == 2

    org.complete_task(str(review["Id"]))
    for _ in range(20):
        clock.now += timedelta(days=3)
        _cycle(engine)
    assert engine.store.held_for_review() == []
    resumed = _tasks(org, contact)[2:]
    assert resumed, "the follow-up resumed after the rep completed the review task"
    assert all("Thank" not in str(t["Subject"]) for t in resumed)
