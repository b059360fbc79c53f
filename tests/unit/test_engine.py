"""The engine's cycle against in-process fakes and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from syncd.connectors import FatalSyncError
from syncd.model import (
    Channel,
    Cursor,
    Intent,
    Owner,
    Page,
    Prospect,
    ProspectRef,
    ReasonKind,
    RejectionEvent,
    ReplyInfo,
    SourceKind,
    TaskChannel,
    WriteKind,
)
from syncd.policy.config import IcpConfig, PolicyConfig, Release
from syncd.store import LeaseLost
from syncd.testing.fakes import FakeSource
from tests.conftest import NOW, person, rejection
from tests.unit.world import World


def test_first_cycle_thanks_every_fitting_prospect_once(world: World) -> None:
    """Each new rejection of a fitting prospect yields one thank-you task, written once."""
    world.add(*(rejection(n) for n in range(5)))
    summary = world.engine().cycle("crm")
    assert summary.events == 5
    assert summary.decisions == Counter(nurture=5)
    assert summary.writes["ok"] == 5
    assert sorted(w.prospect.id for w in world.sink.writes) == [f"C{n:04d}" for n in range(5)]
    assert all(w.write is WriteKind.TASK for w in world.sink.writes)


def test_rerunning_a_cycle_writes_nothing_new(world: World) -> None:
    """A second cycle, and a restarted engine on the same store, write nothing again."""
    world.add(*(rejection(n) for n in range(4)))
    world.engine().cycle("crm")
    again = world.engine().cycle("crm")
    assert again.events == 0 and again.writes["ok"] == 0
    world.source.events.append(world.source.events[0])  # the source repeats a record
    third = world.engine().cycle("crm")
    assert third.events == 0
    assert len(world.sink.writes) == 4


def test_cursor_resumes_after_boundary_without_loss(world: World) -> None:
    """Records sharing the cursor's timestamp are neither lost nor processed twice."""
    at = NOW - timedelta(days=1)
    world.source.page_size = 2
    world.add(*(rejection(n, at=at) for n in range(3)))
    world.engine().cycle("crm")
    world.add(rejection(10, at=at), rejection(11, at=at + timedelta(seconds=1)))
    summary = world.engine().cycle("crm")
    assert summary.events == 2
    assert Counter(w.prospect.id for w in world.sink.writes) == Counter(
        {f"C{n:04d}": 1 for n in (0, 1, 2, 10, 11)}
    )


def test_records_newer_than_the_lag_wait_for_a_later_cycle(world: World) -> None:
    """A record inside the index-lag window is read only once the window has passed."""
    world.add(rejection(1, at=NOW - timedelta(seconds=10)))
    assert world.engine().cycle("crm").events == 0
    world.clock.now = NOW + timedelta(minutes=5)
    assert world.engine().cycle("crm").events == 1


def test_opted_out_channel_is_never_written(world: World) -> None:
    """A prospect opted out of e-mail gets no e-mail touch; the phone call-back stays planned."""
    world.add(rejection(1, opted_out=frozenset({Channel.EMAIL})))
    summary = world.engine().cycle("crm")
    assert summary.decisions == Counter(nurture=1)
    assert all(w.channel is not TaskChannel.EMAIL for w in world.sink.writes)
    assert all(w.write is not WriteKind.DRAFT for w in world.sink.writes)
    assert "callback" in [kind for _, _, kind in world.store.next_due("crm", limit=50)]


def test_opt_out_arriving_after_materialisation_cancels_at_write_time(world: World) -> None:
    """Suppression is re-checked right before the write, after the touch entered the outbox."""
    world.add(rejection(1))
    engine = world.engine()
    engine.materialise("crm", engine.epochs["crm"], _summary())
    assert world.store.outbox_counts("crm") == {}  # nothing read yet: nothing planned
    engine.cycle("crm")
    assert len(world.sink.writes) == 1
    # a second prospect: planned and materialised, then opts out before the dispatch
    world.add(rejection(2))
    world.sink.fail("rate_limit", times=3)  # hold the write back this cycle
    engine.cycle("crm")
    opt_out = RejectionEvent(
        "gm:msg:1",
        SourceKind.REPLY,
        NOW,
        person(2),
        position=NOW.isoformat(),
        reply=ReplyInfo(
            Intent.OPT_OUT, "<m1@x>", "t1", opt_out_channels=frozenset({Channel.EMAIL})
        ),
    )
    from syncd.policy import decide

    decision = decide(opt_out, _empty_history(), engine.config.core.policy, NOW)
    world.store.commit_page("crm", engine.epochs["crm"], _cursor(), [(opt_out, decision, {})])
    world.clock.now = NOW + timedelta(hours=2)
    engine.cycle("crm")
    assert [
        w.prospect.id
        for w in world.sink.writes
        if w.write is WriteKind.TASK and "Thank" in w.subject
    ] == ["C0001"]
    assert world.store.outbox_counts("crm").get("cancelled") == 1


def test_lost_response_is_reconciled_not_duplicated(world: World) -> None:
    """Applied-but-unanswered writes are found by key and marked done, never re-sent."""
    world.add(*(rejection(n) for n in range(3)))
    world.sink.fail("lost_response")
    first = world.engine().cycle("crm")
    assert first.writes["in_doubt"] == 3
    second = world.engine().cycle("crm")
    assert second.writes["ok"] == 3
    assert Counter(world.sink.keys()).most_common(1)[0][1] == 1
    assert world.store.outbox_counts("crm") == {"done": 3}


def test_in_doubt_write_that_never_landed_is_sent_again(world: World) -> None:
    """A 5xx that applied nothing is looked up, found absent, and re-sent exactly once."""
    world.add(rejection(1))
    world.sink.fail("server_error")
    world.engine().cycle("crm")
    assert world.sink.writes == []
    world.engine().cycle("crm")
    assert len(world.sink.writes) == 1
    assert world.sink.calls["find"] >= 1


def test_rate_limited_write_waits_and_then_goes_out(world: World) -> None:
    """A 429 (after the connector's own retries) leaves the write pending for a later cycle."""
    world.add(rejection(1))
    world.sink.fail("rate_limit")
    first = world.engine().cycle("crm")
    assert first.writes["retry"] == 1 and world.sink.writes == []
    world.clock.now = NOW + timedelta(hours=1)
    assert world.engine().cycle("crm").writes["ok"] == 1


def test_permanent_failure_goes_to_dead_letters_and_replays(world: World) -> None:
    """A refused record is dead-lettered without blocking others, and `replay` re-queues it."""
    world.add(rejection(1))
    world.sink.fail("reject")
    assert world.engine().cycle("crm").writes["dead"] == 1
    dead = world.store.dead_letters()
    assert [d["kind"] for d in dead] == ["write"]
    assert world.store.replay() == 1
    assert world.engine().cycle("crm").writes["ok"] == 1
    assert world.store.dead_letters() == []


def test_revoked_credentials_stop_the_shard_and_keep_the_writes(world: World) -> None:
    """FatalSyncError propagates; the writes stay pending for after re-authorisation."""
    world.add(rejection(1))
    world.sink.fail("auth_revoked")
    with pytest.raises(FatalSyncError):
        world.engine().cycle("crm")
    assert world.store.outbox_counts("crm") == {"pending": 1}


def test_active_prospect_gets_an_urgent_task_not_nurture(world: World) -> None:
    """Someone already being worked is not nurtured; the owner gets one urgent task."""
    event = rejection(1)
    world.add(event)
    world.directory.active_refs.add(event.prospect.ref)
    summary = world.engine().cycle("crm")
    assert summary.decisions == Counter(active=1)
    assert [w.priority.value for w in world.sink.writes] == ["high"]


def test_dry_run_decides_but_changes_nothing(world: World) -> None:
    """`plan` mode reports the decisions and writes nothing, remote or local."""
    world.add(*(rejection(n) for n in range(3)))
    summary = world.engine(dry_run=True).cycle("crm")
    assert summary.decisions == Counter(nurture=3)
    assert {p["outcome"] for p in summary.planned} == {"nurture"}
    assert world.sink.writes == []
    assert world.store.cursor("crm") is None
    assert world.store.seen("crm", (e.event_id for e in world.source.events)) == set()


def test_a_stale_lease_cannot_commit(world: World) -> None:
    """After another instance takes the shard over, the old epoch's commits are refused."""
    world.add(rejection(1))
    old = world.engine(owner="a")
    world.clock.now = NOW + timedelta(minutes=5)  # lease expired
    assert world.store.acquire_shard("crm", "b", 60) == old.epochs["crm"] + 1
    with pytest.raises(LeaseLost):
        old.cycle("crm")
    assert world.store.cursor("crm") is None


def _summary():  # type: ignore[no-untyped-def]
    from syncd.engine import CycleSummary

    return CycleSummary("crm")


def _empty_history():  # type: ignore[no-untyped-def]
    from syncd.model import History

    return History()


def _cursor():  # type: ignore[no-untyped-def]
    from syncd.model import Cursor

    return Cursor(NOW.isoformat(), frozenset({"gm:msg:1"}))


def test_daily_review_starts_the_next_cycle_after_an_unanswered_callback(world: World) -> None:
    """Once the call-back date passes without a new no, the review plans the next round."""
    event = rejection(1)
    world.add(event)
    world.engine().cycle("crm")
    plan_before = world.store.history([event.prospect.ref.key])[event.prospect.ref.key].plan
    assert plan_before is not None and plan_before.callback_on is not None
    world.clock.now = datetime.combine(plan_before.callback_on, NOW.timetz()) + timedelta(days=10)
    summary = world.engine().cycle("crm")
    assert sum(summary.reviews.values()) == 1
    plan = world.store.history([event.prospect.ref.key])[event.prospect.ref.key].plan
    assert plan is not None and plan.callback_on is not None
    assert plan.callback_on > world.clock.now.date()


def test_review_ends_the_plan_when_the_account_no_longer_fits(world: World) -> None:
    """An account that shrank out of the profile stops being nurtured at the next review."""
    policy = PolicyConfig(icp=IcpConfig(min_employees=50))
    event = rejection(1, employees=200)
    world.add(event)
    world.engine(policy=policy).cycle("crm")
    world.directory.people[event.prospect.ref] = person(1, employees=10)
    world.clock.now = NOW + timedelta(days=1)
    summary = world.engine(policy=policy).cycle("crm")
    assert summary.reviews == Counter(not_a_fit=1)
    assert world.store.history([event.prospect.ref.key])[event.prospect.ref.key].plan is None
    assert world.store.next_due("crm", limit=100) == []


def test_a_release_configured_later_reaches_nurtured_prospects(world: World) -> None:
    """A product release that answers a prospect's no adds a "we improved" touch at review."""
    event = RejectionEvent(
        **{
            **{f: getattr(rejection(1), f) for f in RejectionEvent.__dataclass_fields__},
            "reason_raw": "Missing feature",
        }
    )
    world.add(event)
    world.engine().cycle("crm")
    release = Release(
        date=(NOW + timedelta(days=20)).date(), title="Bulk edit", reasons=[ReasonKind.PRODUCT_GAP]
    )
    world.clock.now = NOW + timedelta(days=1)
    summary = world.engine(policy=PolicyConfig(releases=[release])).cycle("crm")
    assert sum(summary.reviews.values()) == 1
    kinds = [kind for _, _, kind in world.store.next_due("crm", limit=100)]
    assert "release" in kinds


def test_touches_for_a_sender_the_crm_does_not_know_are_not_written(world: World) -> None:
    """A new lead only a mailbox knows about has no CRM record to task: cancelled, not dead."""
    base = rejection(1)
    unknown = Prospect(
        ProspectRef("crm", "lead", "new:4f2a9c"),
        base.prospect.account,
        base.prospect.owner,
        email="someone@new.example",
    )
    world.add(
        RejectionEvent(
            **{
                **{f: getattr(base, f) for f in RejectionEvent.__dataclass_fields__},
                "prospect": unknown,
            }
        )
    )
    summary = world.engine().cycle("crm")
    assert summary.decisions == Counter(nurture=1)
    assert world.sink.writes == [] and summary.writes["dead"] == 0
    assert summary.cancelled >= 1


class _UnreadableSource(FakeSource):
    """A source whose first page carries one record it could never read."""

    def read(self, cursor: Cursor | None, until: datetime) -> Iterator[Page]:
        for index, page in enumerate(super().read(cursor, until)):
            dead = (("crm:opp:0068X", "read: record of the wrong shape"),) if index == 0 else ()
            yield Page(page.events, page.cursor, dead)


def test_an_unreadable_record_is_dead_lettered_with_its_page(world: World) -> None:
    """A record the source could never read is a dead letter (not silently lost, never in a
    dry run), and the readable events of its page are processed."""
    world.source = _UnreadableSource()
    world.add(*(rejection(n) for n in range(3)))
    world.engine(dry_run=True).cycle("crm")
    assert world.store.dead_letters() == []
    summary = world.engine().cycle("crm")
    assert summary.writes["ok"] == 3
    (letter,) = world.store.dead_letters()
    assert letter["ref"] == "crm:opp:0068X" and "wrong shape" in letter["error"]


def test_writes_go_to_the_plan_owner_not_the_contacts_current_owner(world: World) -> None:
    """The deal owner decided the plan's calendar; the write assigns them, although the
    directory now names the contact's owner (an integration user)."""
    event = rejection(1)
    world.add(event)
    integration = Owner("005INTEGRATION", "UTC")
    world.directory.people[event.prospect.ref] = dataclasses.replace(
        event.prospect, owner=integration
    )
    world.engine().cycle("crm")
    assert world.sink.writes and {w.owner_id for w in world.sink.writes} == {"005U1"}
