"""The Sink against the local org: collections, idempotent upserts, dead letters, fallbacks."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from syncd.connectors import Connector, RetriableError
from syncd.model import (
    Channel,
    Priority,
    ProspectRef,
    TaskChannel,
    TouchSpec,
    WriteKind,
    WriteStatus,
)
from syncd.testing.httpfake import Fault, FaultKind
from syncd_salesforce.sink import key_line
from syncd_salesforce.testkit import LocalOrg


def task(key: str, who: ProspectRef, **fields: object) -> TouchSpec:
    values: dict[str, object] = {
        "due": date(2030, 5, 6),
        "subject": "Check in",
        "body": "Brief: budget freed up in Q3?",
    }
    values.update(fields)
    return TouchSpec(key=key, write=WriteKind.TASK, prospect=who, **values)  # type: ignore[arg-type]


def people(org: LocalOrg, count: int) -> list[ProspectRef]:
    account = org.account()
    return [ProspectRef("sf", "contact", c) for c in org.contacts(account, count)]


def sink_of(conn: Connector):  # type: ignore[no-untyped-def]
    assert conn.sink is not None
    return conn.sink


def test_a_batch_of_200_is_one_upsert_call_with_every_field(org: LocalOrg) -> None:
    """200 touches go out in one sObject Collections upsert, each a complete Task."""
    who = people(org, 200)
    specs = [
        task(
            f"k{i:03d}",
            p,
            channel=TaskChannel.EMAIL,
            priority=Priority.HIGH,
            owner_id=org.rep,
            opportunity_id=None,
        )
        for i, p in enumerate(who)
    ]
    sink = sink_of(org.connector())
    assert sink.idempotent
    before = org.fake.count(path="/composite/sobjects")
    results = sink.write(specs)
    assert org.fake.count(path="/composite/sobjects") - before == 1
    assert [r.status for r in results] == [WriteStatus.OK] * 200
    tasks = {t["Syncd_Key__c"]: t for t in org.tasks()}
    first = tasks["k000"]
    assert first["Id"] == results[0].remote_id
    assert (first["Subject"], first["ActivityDate"].isoformat(), first["Priority"]) == (
        "Check in",
        "2030-05-06",
        "High",
    )
    assert (first["TaskSubtype"], first["Status"], first["OwnerId"]) == (
        "Email",
        "Not Started",
        org.rep,
    )
    assert first["WhoId"] == who[0].id and first["Description"].startswith("Brief:")


def test_upserts_are_idempotent_per_key(org: LocalOrg) -> None:
    """Sending the same batch twice (a retry) leaves one task per key, with the same ids."""
    who = people(org, 3)
    specs = [task(f"again-{i}", p, channel=TaskChannel.CALL) for i, p in enumerate(who)]
    sink = sink_of(org.connector())
    first = sink.write(specs)
    second = sink.write(specs)
    assert [r.status for r in second] == [WriteStatus.OK] * 3
    assert [r.remote_id for r in second] == [r.remote_id for r in first]
    assert Counter(t["Syncd_Key__c"] for t in org.tasks()) == {s.key: 1 for s in specs}
    assert {t["TaskSubtype"] for t in org.tasks()} == {"Call"}


def test_one_bad_record_is_a_dead_letter_and_the_rest_are_written(org: LocalOrg) -> None:
    """A refused record comes back FAILED with its code; the others in the call succeed."""
    who = people(org, 3)
    org.api.restful(f"sobjects/Contact/{who[1].id}", method="DELETE")
    specs = [task(f"partial-{i}", p) for i, p in enumerate(who)]
    results = sink_of(org.connector()).write(specs)
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.FAILED, WriteStatus.OK]
    assert results[1].error == "ENTITY_IS_DELETED" and results[1].remote_id is None
    assert sorted(t["Syncd_Key__c"] for t in org.tasks()) == ["partial-0", "partial-2"]


def test_validation_errors_are_failed_results_not_exceptions(org: LocalOrg) -> None:
    """Permanent refusals (a too-long subject, a malformed id) go to the dead letters."""
    [who] = people(org, 1)
    specs = [
        task("bad-id", ProspectRef("sf", "contact", "003notAnId")),
        task("ok", who),
    ]
    results = sink_of(org.connector(task_status="Waiting forever")).write(specs)
    assert [(r.status, r.error) for r in results] == [
        (WriteStatus.FAILED, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
        (WriteStatus.FAILED, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
    ]
    results = sink_of(org.connector()).write(specs)
    assert [(r.status, r.error) for r in results] == [
        (WriteStatus.FAILED, "MALFORMED_ID"),
        (WriteStatus.OK, None),
    ]


def test_a_locked_row_is_retried_later_not_dead_lettered(org: LocalOrg) -> None:
    """UNABLE_TO_LOCK_ROW is RETRY; the next send writes it once."""
    who = people(org, 2)
    specs = [task(f"lock-{i}", p) for i, p in enumerate(who)]
    org.fake.org.lock_rows(1, "Task")
    sink = sink_of(org.connector())
    results = sink.write(specs)
    assert [(r.status, r.error) for r in results] == [
        (WriteStatus.RETRY, "UNABLE_TO_LOCK_ROW"),
        (WriteStatus.OK, None),
    ]
    assert [r.status for r in sink.write(specs)] == [WriteStatus.OK, WriteStatus.OK]
    assert Counter(t["Syncd_Key__c"] for t in org.tasks()) == {"lock-0": 1, "lock-1": 1}


def test_a_lost_upsert_response_is_resent_at_once(org: LocalOrg) -> None:
    """Applied but unanswered: the upsert is sent again in the call and nothing duplicates."""
    who = people(org, 2)
    specs = [task(f"lost-{i}", p) for i, p in enumerate(who)]
    org.fake.inject(Fault(FaultKind.APPLIED_LOST, path="/composite/sobjects"))
    results = sink_of(org.connector(sleep=lambda _s: None)).write(specs)
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.OK]
    assert Counter(t["Syncd_Key__c"] for t in org.tasks()) == {"lost-0": 1, "lost-1": 1}


def test_queue_owners_hand_the_task_to_the_fallback_user(org: LocalOrg) -> None:
    """A queue cannot own a task: the configured fallback user gets it."""
    queue = org.fake.add_queue("Inbound")
    backup = org.fake.add_user("Backup Rep")
    [who] = people(org, 1)
    results = sink_of(org.connector(fallback_owner_id=backup)).write(
        [task("q", who, owner_id=queue)]
    )
    assert results[0].status is WriteStatus.OK
    assert org.tasks()[0]["OwnerId"] == backup


def test_lead_tasks_carry_no_related_record(org: LocalOrg) -> None:
    """WhatId must stay empty for a lead, even when the touch names an account."""
    lead = ProspectRef("sf", "lead", org.lead())
    account = org.account()
    [result] = sink_of(org.connector()).write([task("lead-task", lead, account_id=account)])
    assert result.status is WriteStatus.OK
    assert org.tasks()[0]["WhoId"] == lead.id and org.tasks()[0]["WhatId"] is None


def test_opt_outs_set_the_crm_flags(org: LocalOrg) -> None:
    """E-mail and phone opt-outs become HasOptedOutOfEmail / DoNotCall on contacts and leads."""
    [contact] = people(org, 1)
    lead = ProspectRef("sf", "lead", org.lead())
    specs = [
        TouchSpec(
            "o1",
            WriteKind.OPT_OUT,
            contact,
            date.today(),
            "",
            "",
            opt_out_channels=frozenset({Channel.EMAIL, Channel.PHONE}),
        ),
        TouchSpec(
            "o2",
            WriteKind.OPT_OUT,
            lead,
            date.today(),
            "",
            "",
            opt_out_channels=frozenset({Channel.PHONE}),
        ),
        TouchSpec(
            "o3",
            WriteKind.OPT_OUT,
            lead,
            date.today(),
            "",
            "",
            opt_out_channels=frozenset({Channel.LINKEDIN}),
        ),
    ]
    results = sink_of(org.connector()).write(specs)
    assert [r.status for r in results] == [WriteStatus.OK] * 3
    c = org.fake.org.find(contact.id)
    ld = org.fake.org.find(lead.id)
    assert c is not None and ld is not None
    assert (c["HasOptedOutOfEmail"], c["DoNotCall"]) == (True, True)
    assert (ld["HasOptedOutOfEmail"], ld["DoNotCall"]) == (False, True)


def test_suppress_writes_the_flags_directly(org: LocalOrg) -> None:
    """Sink.suppress sets the opt-out flag on the person's record."""
    [contact] = people(org, 1)
    sink_of(org.connector()).suppress(contact, frozenset({Channel.EMAIL}))
    record = org.fake.org.find(contact.id)
    assert record is not None and record["HasOptedOutOfEmail"] is True


def test_enrolment_when_already_a_member_is_success(org: LocalOrg) -> None:
    """Enrolling twice answers OK both times, with one campaign membership."""
    campaign = org.fake.add_campaign("Nurture")
    [contact] = people(org, 1)
    lead = ProspectRef("sf", "lead", org.lead())
    specs = [
        TouchSpec(f"e{i}", WriteKind.ENROL, p, date.today(), "", "")
        for i, p in enumerate([contact, lead])
    ]
    sink = sink_of(org.connector(campaign_id=campaign))
    first = sink.write(specs)
    second = sink.write(specs)
    assert [r.status for r in first + second] == [WriteStatus.OK] * 4
    assert [r.remote_id for r in second] == [r.remote_id for r in first]
    members = org.fake.org.records["CampaignMember"].values()
    assert sorted(m["Status"] for m in members) == ["Sent", "Sent"]


def test_enrolment_without_a_campaign_is_not_supported(org: LocalOrg) -> None:
    """Without campaign_id the sink declares no ENROL support and refuses such touches."""
    [contact] = people(org, 1)
    sink = sink_of(org.connector())
    assert WriteKind.ENROL not in sink.supports
    [result] = sink.write([TouchSpec("e", WriteKind.ENROL, contact, date.today(), "", "")])
    assert (result.status, result.error) == (WriteStatus.FAILED, "UNSUPPORTED")


@pytest.fixture
def keyless_org(tmp_path: Path):  # type: ignore[no-untyped-def]
    local = LocalOrg(tmp_path, task_external_id=None)
    yield local
    local.stop()


def test_without_the_external_id_field_tasks_are_created_and_found_by_marker(
    keyless_org: LocalOrg,
) -> None:
    """The fallback creates tasks with a key marker, reports non-idempotence and finds them."""
    who = people(keyless_org, 2)
    specs = [task(f"{'ab' * 20}{i}", p) for i, p in enumerate(who)]
    sink = sink_of(keyless_org.connector(find_grace_s=90))
    assert not sink.idempotent and sink.find_grace_s == 90
    results = sink.write(specs)
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.OK]
    tasks = keyless_org.tasks()
    assert all("[syncd:abababababababab]" in t["Subject"] for t in tasks)
    assert sorted(t["Description"].splitlines()[-1] for t in tasks) == sorted(
        key_line(s.key) for s in specs
    )
    found = sink.find([s.key for s in specs] + ["not-written"])
    assert found == {s.key: r.remote_id for s, r in zip(specs, results, strict=True)}


def test_without_the_external_id_field_a_lost_create_is_in_doubt(keyless_org: LocalOrg) -> None:
    """A create that may have been applied is never re-sent blindly: it is in doubt."""
    who = people(keyless_org, 1)
    keyless_org.fake.inject(Fault(FaultKind.APPLIED_LOST, path="/composite/sobjects"))
    sink = sink_of(keyless_org.connector(sleep=lambda _s: None))
    with pytest.raises(RetriableError) as raised:
        sink.write([task("maybe", who[0])])
    assert raised.value.in_doubt
    assert len(keyless_org.tasks()) == 1
    assert set(sink.find(["maybe"])) == {"maybe"}
