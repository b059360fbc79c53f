"""The Source against the local org through simple-salesforce: paging, boundary, backfill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncd.connectors import RetriableError
from syncd.model import Channel, ContactFallback, Cursor, ReasonKind, SourceKind
from syncd.testing.httpfake import Fault, FaultKind, Request
from syncd_salesforce.backfill import Shape
from syncd_salesforce.client import BulkJobFailed
from syncd_salesforce.fake import sf_error
from syncd_salesforce.testkit import LocalOrg, StepClock, read_all


def test_one_query_per_page_with_contacts_and_account_inline(org: LocalOrg) -> None:
    """450 lost deals with three contacts each are read in three query calls, nothing per record."""
    org.closed_lost_many(450, contacts=3)
    conn = org.connector(page_size=200)
    before = org.fake.count(path=r"/query")
    events, cursor = read_all(conn)
    assert len(events) == 450
    assert all(len(e.related) == 2 and e.prospect.account is not None for e in events)
    assert org.fake.count(path=r"/query") - before == 3 + 1  # three deal pages, one lead page
    [soql] = [q for q in org.fake.soql_log if "FROM OpportunityContactRoles" in q]
    assert "FROM OpportunityContactRoles" in soql and "Account.NumberOfEmployees" in soql
    assert "ORDER BY SystemModstamp, Id" in soql
    assert cursor is not None and cursor.value == max(e.position for e in events)


def test_pages_follow_position_order_with_resumable_cursors(org: LocalOrg) -> None:
    """Every page's cursor resumes exactly after it: no event lost or repeated across resumes."""
    org.closed_lost_many(430)
    full, _ = read_all(org.connector(page_size=200))
    collected: list[str] = []
    cursor: Cursor | None = None
    while True:
        pages = org.connector(page_size=200).source.read(cursor, datetime.now(UTC) + timedelta(1))  # type: ignore[union-attr]
        page = next(iter(pages), None)
        if page is None:
            break
        positions = [e.position for e in page.events]
        assert positions == sorted(positions)
        collected.extend(e.event_id for e in page.events)
        cursor = page.cursor
    assert sorted(collected) == sorted(e.event_id for e in full)
    assert len(set(collected)) == 430


def test_records_sharing_one_modstamp_across_pages_are_read_once(org: LocalOrg) -> None:
    """450 deals lost in the same millisecond span three pages; resuming skips only those seen."""
    with org.fake.org.clock_at(datetime(2024, 1, 1, 12, tzinfo=UTC)):
        org.closed_lost_many(450)
    seen: list[str] = []
    cursor: Cursor | None = None
    for _ in range(5):
        pages = org.connector(page_size=200).source.read(cursor, datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[union-attr]
        page = next(iter(pages), None)
        if page is None:
            break
        assert page.cursor.value == "2024-01-01T12:00:00.000Z"
        seen.extend(e.event_id for e in page.events)
        cursor = page.cursor
    assert len(seen) == len(set(seen)) == 450
    assert cursor is not None and len(cursor.boundary_ids) == 450


def test_incremental_read_returns_changes_at_and_after_the_cursor_only(org: LocalOrg) -> None:
    """A record modified at the cursor's own timestamp after the read is still picked up."""
    stamp = datetime(2024, 3, 1, 9, tzinfo=UTC)
    with org.fake.org.clock_at(stamp):
        first = org.closed_lost()
    events, cursor = read_all(org.connector())
    assert [e.opportunity_id for e in events] == [first]
    with org.fake.org.clock_at(stamp):
        second = org.closed_lost()  # same millisecond as the cursor: `>=` must catch it
    with org.fake.org.clock_at(stamp + timedelta(seconds=1)):
        third = org.closed_lost()
    events, _ = read_all(org.connector(), cursor)
    assert sorted(e.opportunity_id for e in events if e.opportunity_id) == sorted([second, third])


def test_records_after_until_wait_for_a_later_read(org: LocalOrg) -> None:
    """A deal lost after `until` (inside the index lag) is not read yet, and not skipped later."""
    with org.fake.org.clock_at(datetime(2024, 1, 1, tzinfo=UTC)):
        early = org.closed_lost()
    with org.fake.org.clock_at(datetime(2024, 1, 2, tzinfo=UTC)):
        late = org.closed_lost()
    events, cursor = read_all(org.connector(), until=datetime(2024, 1, 1, 12, tzinfo=UTC))
    assert [e.opportunity_id for e in events] == [early]
    events, _ = read_all(org.connector(), cursor)
    assert [e.opportunity_id for e in events] == [late]


def test_bulk_backfill_matches_the_rest_read(org: LocalOrg) -> None:
    """Above the threshold the first read runs Bulk API 2.0 jobs and yields the same events."""
    org.closed_lost_many(260, contacts=2)
    for _ in range(5):
        org.lead("Unqualified")
    rest, rest_cursor = read_all(org.connector(bulk_threshold=10_000))
    assert not org.fake.count(path="/jobs/query")
    bulk, bulk_cursor = read_all(org.connector(bulk_threshold=100, bulk_page_size=1000))
    assert org.fake.count("POST", "/jobs/query") == 3  # deals, their contact roles, their history
    assert [e.event_id for e in bulk] == [e.event_id for e in rest]
    assert bulk == rest
    assert bulk_cursor == rest_cursor


def test_bulk_backfill_streams_many_result_pages(org: LocalOrg) -> None:
    """A backfill whose jobs return several CSV pages (Sforce-Locator) loses no record."""
    org.closed_lost_many(1200)
    bulk, cursor = read_all(org.connector(bulk_threshold=1000, bulk_page_size=1000))
    # pages of 1000 rows: 1200 deals (2), 1200 contact roles (2), 2400 history rows (3)
    assert org.fake.count(path=r"/jobs/query/\w+/results") == 2 + 2 + 3
    assert len({e.event_id for e in bulk}) == 1200
    again, _ = read_all(org.connector(bulk_threshold=1000), cursor)
    assert again == []


def test_locator_lost_to_a_relogin_restarts_from_the_last_position(org: LocalOrg) -> None:
    """An expired session mid-read re-logs in; the dead query locator is replaced, nothing lost."""
    org.closed_lost_many(450)
    conn = org.connector(page_size=200)
    assert conn.source is not None
    pages = conn.source.read(None, datetime.now(UTC) + timedelta(1))
    collected = [e.event_id for e in next(pages).events]
    org.fake.expire_sessions()
    for page in pages:
        collected.extend(e.event_id for e in page.events)
    assert len(collected) == len(set(collected)) == 450
    assert org.fake.count(path="/oauth2/token") == 2


def test_opportunity_event_carries_the_deal_and_its_people(org: LocalOrg) -> None:
    """Reason, competitor, amount, stage reached before the loss, primary contact and the rest."""
    account = org.account(
        Name="Globex Corp",
        NumberOfEmployees=900,
        Industry="Retail",
        BillingCountryCode="FR",
        BillingCountry="France",
    )
    people = org.contacts(account, 3)
    org.api.restful(
        f"sobjects/Contact/{people[1]}",
        method="PATCH",
        json={"HasOptedOutOfEmail": True, "DoNotCall": True},
    )
    lost_at = datetime(2024, 2, 3, 15, 30, tzinfo=UTC)
    with org.fake.org.clock_at(lost_at - timedelta(days=20)):
        opp = org.api.restful(
            "sobjects/Opportunity/",
            method="POST",
            json={
                "Name": "Big deal",
                "AccountId": account,
                "StageName": "Qualification",
                "CloseDate": "2024-02-01",
                "Amount": 90000,
                "OwnerId": org.rep,
            },
        )["id"]
        for i, contact in enumerate(people):
            org.api.restful(
                "sobjects/OpportunityContactRole/",
                method="POST",
                json={"OpportunityId": opp, "ContactId": contact, "IsPrimary": i == 1},
            )
    with org.fake.org.clock_at(lost_at - timedelta(days=10)):
        org.api.restful(
            f"sobjects/Opportunity/{opp}", method="PATCH", json={"StageName": "Negotiation"}
        )
    with org.fake.org.clock_at(lost_at):
        org.api.restful(
            f"sobjects/Opportunity/{opp}",
            method="PATCH",
            json={
                "StageName": "Closed Lost",
                "Loss_Reason__c": "Competitor",
                "Competitor__c": "Initech",
            },
        )
    with org.fake.org.clock_at(lost_at + timedelta(days=1)):  # a later edit: not a new loss
        org.api.restful(f"sobjects/Opportunity/{opp}", method="PATCH", json={"Amount": 95000})
    [event], _ = read_all(org.connector(loss_reasons={"Competitor": "competitor"}))
    assert event.event_id == f"sf:opp:{opp}" and event.source is SourceKind.OPPORTUNITY
    assert (event.reason_raw, event.reason, event.competitor) == (
        "Competitor",
        ReasonKind.COMPETITOR,
        "Initech",
    )
    assert event.amount == 95000.0 and event.stage == "Negotiation"
    assert event.occurred_at == lost_at and event.position == "2024-02-04T15:30:00.000Z"
    assert event.prospect.ref.id == people[1]
    assert event.prospect.opted_out == {Channel.EMAIL, Channel.PHONE}
    assert {p.ref.id for p in event.related} == {people[0], people[2]}
    assert event.prospect.account is not None
    assert (event.prospect.account.country, event.prospect.account.employees) == ("FR", 900)
    assert event.prospect.owner is not None
    assert (event.prospect.owner.id, event.prospect.owner.timezone) == (org.rep, "Europe/Paris")


def test_without_country_picklists_the_country_name_is_used(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Orgs without state and country picklists have no BillingCountryCode: it is not queried."""
    org = LocalOrg(tmp_path, country_picklists=False)
    try:
        org.closed_lost(account={"BillingCountry": "Spain"})
        [event], _ = read_all(org.connector())
        assert event.prospect.account is not None and event.prospect.account.country == "Spain"
    finally:
        org.stop()


def test_deals_naming_nobody_become_account_level_events_read_once(org: LocalOrg) -> None:
    """A lost deal naming nobody at an account without contacts is not dropped: one event
    about the account (an account-level plan for the owner), not read again."""
    opp = org.closed_lost(contacts=0)
    events, cursor = read_all(org.connector())
    (event,) = events
    assert event.opportunity_id == opp and event.prospect.ref.is_account
    assert event.contact_fallback is ContactFallback.ACCOUNT_PLAN and cursor is not None
    assert read_all(org.connector(), cursor)[0] == []


def test_leads_in_mapped_rejection_statuses_become_events(org: LocalOrg) -> None:
    """Mapped statuses are events with their reason; other and converted statuses are not."""
    queue = org.fake.add_queue("Inbound")
    rejected = org.lead(
        "Not Interested",
        OwnerId=queue,
        HasOptedOutOfEmail=True,
        NumberOfEmployees=40,
        Country="Germany",
        CountryCode="DE",
    )
    org.lead("Working - Contacted")
    org.lead("Closed - Converted")
    [event], _ = read_all(org.connector())
    assert event.event_id == f"sf:lead:{rejected}:Not Interested"
    assert event.source is SourceKind.LEAD and event.reason is ReasonKind.NOT_INTERESTED
    assert event.prospect.ref.kind == "lead" and event.prospect.opted_out == {Channel.EMAIL}
    assert event.prospect.owner is not None and event.prospect.owner.is_queue
    assert event.prospect.account is not None
    assert (event.prospect.account.employees, event.prospect.account.country) == (40, "DE")


def test_leads_and_deals_merge_into_one_ordered_stream(org: LocalOrg) -> None:
    """Events of both objects come out in position order, whatever object they are."""
    for day in range(1, 7):
        with org.fake.org.clock_at(datetime(2024, 1, day, tzinfo=UTC)):
            org.lead("Unqualified") if day % 2 else org.closed_lost()
    events, _ = read_all(org.connector())
    assert [e.source for e in events] == [SourceKind.LEAD, SourceKind.OPPORTUNITY] * 3
    assert [e.position for e in events] == sorted(e.position for e in events)


class _LaterPagesFail(Fault):
    """Bulk result pages after the first (those asked for by locator) fail."""

    def matches(self, req: Request) -> bool:
        return "/results" in req.path and bool(req.arg("locator"))


def test_an_interrupted_backfill_resumes_its_job_and_pages(org: LocalOrg) -> None:
    """A backfill that runs out of retries half-way through a job resumes in the next read
    (even by a new process) from the checkpointed jobs and page: no job is started again (the
    leads' job, started with the others, included), no page read twice, no record lost; the
    checkpoint is removed by the first read from a committed cursor."""
    org.closed_lost_many(1200)
    for _ in range(5):
        org.lead("Unqualified")
    unavailable = sf_error(503, "SERVER_UNAVAILABLE", "Try again")
    org.fake.inject(_LaterPagesFail(FaultKind.STATUS, unavailable, times=4))  # all 4 tries
    with pytest.raises(RetriableError):
        read_all(org.connector(bulk_threshold=3, bulk_page_size=1000))
    assert org.fake.count("POST", "/jobs/query") == 4  # all started before the failure
    assert list(org.workdir.glob("salesforce-backfill-*"))  # the checkpoint survives
    conn = org.connector(bulk_threshold=3, bulk_page_size=1000)
    events, cursor = read_all(conn)
    assert len({e.event_id for e in events}) == len(events) == 1205
    assert org.fake.count("POST", "/jobs/query") == 4
    ok = [c for c in org.fake.calls("GET", r"/jobs/query/\w+/results") if c.status == 200]
    assert len(ok) == 2 + 2 + 3 + 1  # each page once
    assert read_all(conn, cursor)[0] == []
    assert not list(org.workdir.glob("salesforce-backfill-*"))


def _slow_jobs(org: LocalOrg) -> StepClock:
    """Bulk jobs that take the time a real org takes, on a clock the connector's sleeps move."""
    clock = StepClock()
    org.fake.clock = clock
    org.fake.bulk.queue_s, org.fake.bulk.row_s = 2.0, 0.001
    return clock


def test_the_backfill_starts_every_job_before_waiting_for_one(org: LocalOrg) -> None:
    """All four jobs (deals, contact roles, stage history, leads) are created before the first
    poll: they process side by side, so the backfill waits for the slowest job only, polling
    after 0.5 s, 1 s, then the 2 s default; the events equal the REST read's."""
    org.closed_lost_many(150)
    for _ in range(5):
        org.lead("Unqualified")
    rest, _ = read_all(org.connector())
    clock = _slow_jobs(org)
    bulk, _ = read_all(org.connector(sleep=clock.sleep, bulk_threshold=3, bulk_poll_s=2.0))
    assert bulk == rest
    steps = [
        "create" if r.method == "POST" else "results" if r.path.endswith("/results") else "poll"
        for r in org.fake.calls(path="/jobs/query")
    ]
    assert steps[:5] == ["create"] * 4 + ["poll"]
    assert steps.count("create") == 4
    # the deals' job (2.15 s) is polled after 0.5, 1.5 and 3.5 s, when it is done; the others
    # are done by then too: one poll each
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert steps.count("poll") == 3 + 1 + 1 + 1


def test_a_failed_job_is_started_again_alone(org: LocalOrg) -> None:
    """The org failing one job (contact roles) while the others run fails the read; the next
    read starts that job again alone, reuses the others and reads every record once."""
    org.closed_lost_many(150)
    for _ in range(5):
        org.lead("Unqualified")
    clock = _slow_jobs(org)

    def sleep(seconds: float) -> None:  # the org fails the roles' job while it is waited on
        for job in org.fake.bulk.jobs.values():
            if job.object == "OpportunityContactRole":
                job.failed = "InternalServerError"
        clock.sleep(seconds)

    with pytest.raises(BulkJobFailed):
        read_all(org.connector(sleep=sleep, bulk_threshold=3, bulk_poll_s=2.0))
    created = org.fake.count("POST", "/jobs/query")
    assert created == 4
    events, _ = read_all(org.connector(sleep=clock.sleep, bulk_threshold=3, bulk_poll_s=2.0))
    assert len({e.event_id for e in events}) == len(events) == 155
    assert org.fake.soql_log[-1].startswith("SELECT OpportunityId")  # only the roles again
    assert org.fake.count("POST", "/jobs/query") == created + 1


def test_bulk_csv_columns_are_rebuilt_into_the_rest_shape_at_any_depth() -> None:
    """Flat CSV columns become the nested records the mapping reads, relationships of
    relationships included, from one layout per table."""
    shape = Shape(["Id", "Account.Name", "Account.Owner.Name", "Account.Owner.Id", "Contact.Email"])
    assert shape.build(["006A", "Acme", "Jo", "005B", "x@example.com"]) == {
        "Id": "006A",
        "Account": {"Name": "Acme", "Owner": {"Name": "Jo", "Id": "005B"}},
        "Contact": {"Email": "x@example.com"},
    }
