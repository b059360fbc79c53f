"""Writing tasks, opt-outs and enrolments to the fake portal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from syncd.connectors import SetupIncomplete
from syncd.model import (
    Channel,
    Priority,
    ProspectRef,
    TaskChannel,
    TouchSpec,
    WriteKind,
    WriteStatus,
)
from syncd_hubspot import plugin

if TYPE_CHECKING:
    from conftest import Portal


def spec(
    n: int,
    contact: str,
    *,
    kind: WriteKind = WriteKind.TASK,
    company: str | None = None,
    deal: str | None = None,
    channels: frozenset[Channel] = frozenset(),
) -> TouchSpec:
    return TouchSpec(
        key=f"{n:040x}",
        write=kind,
        prospect=ProspectRef("hubspot", "contact", contact),
        due=date(2031, 3, 14),
        subject=f"Follow up {n}",
        body=f"Brief {n}",
        channel=TaskChannel.CALL,
        priority=Priority.HIGH,
        owner_id="71002",
        account_id=company,
        opportunity_id=deal,
        opt_out_channels=channels,
    )


@pytest.fixture
def ready(portal: Portal) -> Portal:
    """A portal with the syncd_key task property in place."""
    portal.add_syncd_key()
    return portal


def creates(portal: Portal) -> list[int]:
    return [r.status for r in portal.fake.served if r.path.endswith("/tasks/batch/create")]


def test_tasks_go_100_a_call_with_inline_associations(ready: Portal) -> None:
    """250 tasks take three calls; each carries due date, type, priority, owner, brief, key
    and its contact, company and deal associations."""
    company = ready.company()
    contact = ready.contact(company)
    deal = ready.lost_deal([contact], company)
    sink = ready.connect().sink
    assert sink is not None
    batch = [spec(i, contact, company=company, deal=deal) for i in range(250)]

    results = sink.write(batch)

    assert [r.status for r in results] == [WriteStatus.OK] * 250
    assert creates(ready) == [201, 201, 201]
    task = ready.fake.portal.records["tasks"][results[7].remote_id or ""]
    assert task.props["syncd_key"] == batch[7].key
    assert task.props["hs_timestamp"] == "2031-03-14T12:00:00.000Z"
    assert (task.props["hs_task_type"], task.props["hs_task_priority"]) == ("CALL", "HIGH")
    assert (task.props["hubspot_owner_id"], task.props["hs_task_body"]) == ("71002", "Brief 7")
    for to_type, to_id in (("contacts", contact), ("companies", company), ("deals", deal)):
        assert list(ready.fake.portal.associated("tasks", task.id, to_type)) == [to_id]


def test_multi_status_maps_each_result_to_its_input(ready: Portal) -> None:
    """A 207 is read back input by input: created ones are OK with their own ids, the one
    HubSpot refused is FAILED with its error category."""
    contact = ready.contact()
    sink = ready.connect().sink
    assert sink is not None
    batch = [spec(1, contact), spec(2, contact, deal="424242"), spec(3, contact)]

    results = sink.write(batch)

    assert creates(ready) == [207]
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.FAILED, WriteStatus.OK]
    assert results[1].error == "INVALID_ASSOCIATION"
    for result, item in ((results[0], batch[0]), (results[2], batch[2])):
        assert (
            ready.fake.portal.records["tasks"][result.remote_id or ""].props["syncd_key"]
            == item.key
        )


def test_a_refused_batch_is_split_to_isolate_the_bad_input(ready: Portal) -> None:
    """When one bad input refuses the whole call (400), halving the batch saves the rest."""
    ready.fake.portal.strict_batches = True
    contact = ready.contact()
    sink = ready.connect().sink
    assert sink is not None
    batch = [spec(i, contact, deal="424242" if i == 5 else None) for i in range(8)]

    results = sink.write(batch)

    assert [r.status for r in results].count(WriteStatus.OK) == 7
    assert results[5].status is WriteStatus.FAILED
    assert len(creates(ready)) <= 7  # 1 + 2 + 2 + 2 halvings, never one call per input
    assert sorted(ready.task_keys()) == sorted(s.key for i, s in enumerate(batch) if i != 5)


def test_in_doubt_writes_are_found_after_the_grace_period(
    make_portal: Callable[..., Portal],
) -> None:
    """An applied-but-lost batch is IN_DOUBT; searching right away misses it (index lag), after
    the sink's grace period every key is found once, with the id of its task."""
    portal = make_portal(index_delay_s=20)
    now = [datetime.now(UTC)]
    portal.fake.clock = lambda: now[0]
    portal.add_syncd_key()
    conn = portal.connect(find_grace_s=30)
    conn.checks[0]()
    assert conn.sink is not None and not conn.sink.idempotent
    assert conn.sink.find_grace_s > portal.fake.index_delay_s
    contact = portal.contact()
    batch = [spec(i, contact) for i in range(5)]
    portal.fake.lose_responses(1, path="/batch/create$")

    results = conn.sink.write(batch)

    assert {r.status for r in results} == {WriteStatus.IN_DOUBT}
    keys = [s.key for s in batch]
    assert conn.sink.find(keys) == {}
    now[0] += timedelta(seconds=conn.sink.find_grace_s)
    found = conn.sink.find(keys)
    assert set(found) == set(keys)
    tasks = portal.fake.portal.records["tasks"]
    assert all(tasks[found[k]].props["syncd_key"] == k for k in keys)
    assert Counter(portal.task_keys()) == Counter(keys)


def test_transport_failures_are_in_doubt_and_429_is_retry(ready: Portal) -> None:
    """A hung call (timeout) and a 5xx may have been applied: IN_DOUBT; a 429 was not: RETRY
    after the policy's window."""
    contact = ready.contact()
    sink = ready.connect(timeout_s=0.3).sink
    assert sink is not None
    ready.fake.hang(1, hold_s=1.0, path="/batch/create$")
    assert sink.write([spec(1, contact)])[0].status is WriteStatus.IN_DOUBT
    ready.fake.server_errors(1, status=503, path="/batch/create$")
    assert sink.write([spec(2, contact)])[0].status is WriteStatus.IN_DOUBT
    ready.fake.storm(1, path="/batch/create$")
    limited = sink.write([spec(3, contact)])[0]
    assert limited.status is WriteStatus.RETRY and limited.retry_after_s == 10.0


def test_find_keeps_search_bodies_within_hubspot_limits(ready: Portal) -> None:
    """Looking up 130 keys splits them over several searches that HubSpot accepts."""
    contact = ready.contact()
    sink = ready.connect().sink
    assert sink is not None
    batch = [spec(i, contact) for i in range(130)]
    sink.write(batch)
    ready.fake.served.clear()

    found = sink.find([s.key for s in batch] + ["f" * 40])

    assert set(found) == {s.key for s in batch}
    searches = [r.status for r in ready.fake.served if r.path.endswith("/tasks/search")]
    assert len(searches) >= 2 and set(searches) == {200}


def test_opt_outs_use_preferences_and_channel_properties(ready: Portal) -> None:
    """E-mail opt-outs go through communication preferences, phone through the configured
    property; the directory then reports both."""
    ready.fake.portal.create_property("contacts", {"name": "do_not_call", "type": "bool"})
    first, second = ready.contact(email="Ana@Ex.com"), ready.contact(email="bo@ex.com")
    conn = ready.connect(channel_optout_properties={"phone": "do_not_call"})
    assert conn.sink is not None and conn.directory is not None
    opt_out = spec(
        1, first, kind=WriteKind.OPT_OUT, channels=frozenset({Channel.EMAIL, Channel.PHONE})
    )

    results = conn.sink.write([opt_out])
    conn.sink.suppress(
        ProspectRef("hubspot", "contact", second), frozenset({Channel.LINKEDIN, Channel.EMAIL})
    )

    assert results[0].status is WriteStatus.OK
    assert ready.fake.portal.unsubscribed_all == {"ana@ex.com", "bo@ex.com"}
    people = conn.directory.prospects(
        [ProspectRef("hubspot", "contact", c) for c in (first, second)]
    )
    assert people[ProspectRef("hubspot", "contact", first)].opted_out == {
        Channel.EMAIL,
        Channel.PHONE,
    }
    assert people[ProspectRef("hubspot", "contact", second)].opted_out == {Channel.EMAIL}


def test_enrolment_adds_to_the_static_list(ready: Portal) -> None:
    """ENROL adds the contact to the nurture list; an unknown contact is FAILED."""
    contact = ready.contact()
    created = ready.client().crm.lists.lists_api.create(
        {"name": "nurture", "objectTypeId": "0-1", "processingType": "MANUAL"}, _request_timeout=5
    )
    list_id = str(created.list.list_id)
    sink = ready.connect(nurture_list_id=list_id).sink
    assert sink is not None and WriteKind.ENROL in sink.supports

    results = sink.write(
        [spec(1, contact, kind=WriteKind.ENROL), spec(2, "999999", kind=WriteKind.ENROL)]
    )

    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.FAILED]
    assert list(ready.fake.portal.lists[list_id].members) == [contact]


def test_unsupported_kinds_fail_without_a_call(ready: Portal) -> None:
    """A draft is not something HubSpot tasks can hold: FAILED, nothing sent."""
    sink = ready.connect().sink
    assert sink is not None
    ready.fake.served.clear()
    result = sink.write([spec(1, "1", kind=WriteKind.DRAFT)])[0]
    assert result.status is WriteStatus.FAILED and ready.fake.served == []


def test_missing_syncd_key_is_reported_then_created_only_by_doctor_fix(portal: Portal) -> None:
    """Without the task property the start-up check and doctor say how to create it and
    create nothing; `doctor --fix` creates it and both are satisfied."""
    conn = portal.connect()
    with pytest.raises(SetupIncomplete, match="syncd doctor hubspot --fix"):
        conn.checks[0]()
    [key] = [c for c in plugin.doctor(portal.settings()) if c.name == "tasks.syncd_key"]
    assert not key.ok and "syncd_key" in key.fix
    assert portal.fake.portal.property("tasks", "syncd_key") is None
    fixed = plugin.doctor(portal.settings(), fix=True)
    assert all(c.ok for c in fixed) and any(c.fixed for c in fixed)
    conn.checks[0]()
    assert portal.fake.portal.property("tasks", "syncd_key") is not None


def test_a_failing_opt_out_does_not_undo_the_tasks_of_the_same_batch(ready: Portal) -> None:
    """Tasks created in a write() stay OK when the opt-out in the same batch cannot be sent:
    only the opt-out is RETRY, so the engine never re-sends (duplicates) the tasks."""
    contact = ready.contact(email="x@ex.com")
    sink = ready.connect().sink
    assert sink is not None
    ready.fake.server_errors(10, status=503, path="/contacts/batch/read$")
    opt_out = spec(9, contact, kind=WriteKind.OPT_OUT, channels=frozenset({Channel.EMAIL}))

    results = sink.write([spec(1, contact), opt_out])

    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.RETRY]
    assert ready.task_keys() == [spec(1, contact).key]
