"""Reading closed-lost deals and rejected contacts from the fake portal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from syncd.model import ContactFallback, Cursor, ReasonKind, RejectionEvent, SourceKind
from syncd_hubspot.client import HubSpotApi
from syncd_hubspot.crm import Crm
from syncd_hubspot.scan import ScanSpec, scan

if TYPE_CHECKING:
    from conftest import Portal

FAR = datetime.now(UTC) + timedelta(days=1)


def read_all(
    portal: Portal, cursor: Cursor | None = None, until: datetime = FAR, **settings: object
) -> tuple[list[RejectionEvent], Cursor | None]:
    conn = portal.connect(**settings)
    assert conn.source is not None
    events: list[RejectionEvent] = []
    last = cursor
    for page in conn.source.read(cursor, until):
        events.extend(page.events)
        last = page.cursor
    return events, last


def test_closed_lost_deals_of_every_pipeline(portal: Portal) -> None:
    """Lost deals of the built-in and a custom pipeline (numeric stage ids) become events;
    won and open deals do not. The first contact is the prospect, the others are related."""
    portal.fake.add_pipeline(
        "77001",
        "Enterprise",
        [
            ("77002", "Pilot", 0.5, False),
            ("77003", "Signed", 1.0, True),
            ("77004", "Lost", 0.0, True),
        ],
    )
    company = portal.company(
        name="Cedar Labs",
        numberofemployees="640",
        annualrevenue="5e7",
        industry="Software",
        country="DE",
    )
    first, second = (
        portal.contact(company, firstname="Lena", jobtitle="CFO"),
        portal.contact(company),
    )
    lost = portal.lost_deal(
        [first, second],
        company,
        closed_lost_reason="Budget",
        amount="40000",
        hubspot_owner_id="71001",
    )
    enterprise = portal.lost_deal([second], company, stage="77004", pipeline="77001")
    portal.lost_deal([first], company, stage="closedwon")
    portal.lost_deal([first], company, stage="77002", pipeline="77001")

    events, _ = read_all(portal)

    assert [e.event_id for e in events] == [f"hs:deal:{lost}", f"hs:deal:{enterprise}"]
    event = events[0]
    assert event.source is SourceKind.OPPORTUNITY and event.opportunity_id == lost
    assert event.reason_raw == "Budget" and event.amount == 40000.0
    assert event.prospect.ref.id == first and [p.ref.id for p in event.related] == [second]
    assert event.prospect.name == "Lena" and event.prospect.title == "CFO"
    assert event.prospect.owner is not None and event.prospect.owner.id == "71001"
    account = event.prospect.account
    assert account is not None and account.ref.id == company
    assert (account.employees, account.industry, account.country) == (640, "Software", "DE")
    assert event.position and events[1].position > event.position


def test_hits_are_completed_in_batches_across_pages(portal: Portal) -> None:
    """45 deals in search pages of 20 are completed together: one call per association and
    object batch for all three pages, not a set per page."""
    for i in range(45):
        company = portal.company(name=f"Co {i}")
        portal.lost_deal([portal.contact(company), portal.contact(company)], company)
    portal.fake.served.clear()

    events, _ = read_all(portal, page_size=20, read_contacts=False)

    assert len(events) == 45
    calls = Counter(r.path for r in portal.fake.served)
    assert calls == {
        "/crm/v3/pipelines/deals": 1,
        "/crm/v3/objects/deals/search": 3,
        "/crm/v4/associations/deals/contacts/batch/read": 1,
        "/crm/v4/associations/deals/companies/batch/read": 1,
        "/crm/v3/objects/contacts/batch/read": 1,
        "/crm/v3/objects/companies/batch/read": 1,
    }


def test_read_batch_bounds_the_hits_held_and_keeps_pages_in_order(portal: Portal) -> None:
    """130 deals in pages of 20 with read_batch 60: three pages are scanned, completed in
    one set of batch reads and handed out in order, then the next three; every deal comes
    out once with its contacts and company, and no page's cursor is behind its records."""
    deals = {}
    for i in range(130):
        company = portal.company(name=f"Co {i}")
        people = [portal.contact(company), portal.contact(company)]
        deals[portal.lost_deal(people, company)] = (people, company)
    portal.fake.served.clear()
    conn = portal.connect(page_size=20, read_batch=60, read_contacts=False)
    assert conn.source is not None

    pages = list(conn.source.read(None, FAR))

    events = [e for page in pages for e in page.events]
    assert [e.opportunity_id for e in events] == list(deals)
    for event in events:
        people, company = deals[event.opportunity_id or ""]
        assert [event.prospect.ref.id, *(p.ref.id for p in event.related)] == people
        assert event.prospect.account is not None and event.prospect.account.ref.id == company
    assert [len(page.events) for page in pages] == [20] * 6 + [10]
    for page in pages:
        assert all(e.position <= page.cursor.value for e in page.events)
    assert [p.cursor.value for p in pages] == sorted(p.cursor.value for p in pages)
    short = {
        "/crm/v3/pipelines/deals": "pipelines",
        "/crm/v3/objects/deals/search": "search",
        "/crm/v4/associations/deals/contacts/batch/read": "contacts<",
        "/crm/v4/associations/deals/companies/batch/read": "company<",
        "/crm/v3/objects/contacts/batch/read": "contacts",
        "/crm/v3/objects/companies/batch/read": "companies",
    }
    full = ["search"] * 3 + ["contacts<", "company<", "contacts", "contacts", "companies"]
    last = ["search", "contacts<", "company<", "contacts", "companies"]
    assert [short[r.path] for r in portal.fake.served] == ["pipelines", *full, *full, *last]


def test_a_read_resumed_from_any_page_cursor_misses_nothing(portal: Portal) -> None:
    """The cursor of a page in the middle of a batch (the last one committed before a crash)
    resumes the read at the next page: every later deal once, no earlier one again."""
    deals = [portal.lost_deal([portal.contact()]) for _ in range(50)]
    conn = portal.connect(page_size=10, read_batch=30, read_contacts=False)
    assert conn.source is not None
    pages = list(conn.source.read(None, FAR))
    assert len(pages) == 5

    for done in (1, 2, 3):
        rest, _ = read_all(portal, pages[done - 1].cursor, page_size=10, read_contacts=False)
        assert [e.opportunity_id for e in rest] == deals[done * 10 :]


def test_contacts_with_a_rejecting_lead_status(portal: Portal) -> None:
    """Mapped lead statuses become LEAD events with the configured reason; others do not."""
    company = portal.company()
    unqualified = portal.contact(company, hs_lead_status="UNQUALIFIED")
    timing = portal.contact(company, hs_lead_status="BAD_TIMING")
    portal.contact(company, hs_lead_status="NEW")

    events, _ = read_all(portal, read_deals=False)

    by_id = {e.prospect.ref.id: e for e in events}
    assert set(by_id) == {unqualified, timing}
    assert by_id[timing].event_id == f"hs:contact:{timing}:BAD_TIMING"
    assert by_id[timing].source is SourceKind.LEAD and by_id[timing].reason is ReasonKind.NOT_NOW
    assert by_id[unqualified].reason is ReasonKind.NOT_A_FIT
    assert by_id[timing].prospect.account is not None


def test_window_restarts_before_the_10000_result_cap(portal: Portal) -> None:
    """10,450 lost deals (timestamps tied in sevens, straddling the cap) are all read exactly
    once: the scan restarts from the last timestamp instead of paging past 10,000."""
    contact = portal.contact()
    start = datetime.now(UTC) - timedelta(days=1)
    for i in range(10_450):
        portal.lost_deal([contact], modified_at=start + timedelta(milliseconds=10 * (i // 7)))
    portal.fake.served.clear()

    events, cursor = read_all(portal, read_contacts=False)

    counts = Counter(e.event_id for e in events)
    assert len(counts) == 10_450 and max(counts.values()) == 1
    searches = [r for r in portal.fake.served if r.path.endswith("/search")]
    assert {r.status for r in searches} == {200}
    assert len(searches) == 53  # 10,000 in 50 pages, then the restarted query's 3 pages
    assert cursor is not None and cursor.value == events[-1].position


def test_a_whole_query_at_one_instant_is_read_by_id(make_portal: Callable[..., Portal]) -> None:
    """When more records than the cap share one timestamp, the scan windows that instant by
    hs_object_id and still returns each record once."""
    portal = make_portal(search_cap=50)
    moment = datetime.now(UTC) - timedelta(hours=1)
    tied = [portal.lost_deal([], modified_at=moment) for _ in range(120)]
    later = [portal.lost_deal([], modified_at=moment + timedelta(seconds=1)) for _ in range(5)]
    crm = Crm(HubSpotApi(portal.settings(), sleep=portal.time.sleep, clock=portal.time))
    spec = ScanSpec("deals", "hs_lastmodifieddate", (), (), page_size=10, cap=50)

    ids = [h.id for page in scan(crm, spec, moment - timedelta(days=1), FAR) for h in page]

    assert sorted(ids, key=int) == tied + later and len(ids) == len(set(ids))
    assert {r.status for r in portal.fake.served} == {200}


@pytest.mark.parametrize(("lookback_s", "found_late"), [(300.0, True), (0.0, False)])
def test_look_back_picks_up_records_that_reach_search_late(
    portal: Portal, lookback_s: float, found_late: bool
) -> None:
    """A deal modified before the cursor but indexed only after the read is found by the next
    read thanks to the look-back; without a look-back it is lost for good."""
    t0 = datetime.now(UTC) - timedelta(hours=1)
    clock = [t0]
    portal.fake.clock = lambda: clock[0]
    contact = portal.contact()
    late = portal.lost_deal(
        [contact], modified_at=t0 - timedelta(seconds=20), visible_at=t0 + timedelta(seconds=10)
    )
    on_time = portal.lost_deal([contact], modified_at=t0 - timedelta(seconds=10))

    first, cursor = read_all(portal, until=t0, lookback_s=lookback_s, read_contacts=False)
    clock[0] = t0 + timedelta(seconds=15)
    second, _ = read_all(portal, cursor, until=clock[0], lookback_s=lookback_s, read_contacts=False)

    assert [e.opportunity_id for e in first] == [on_time]
    assert [e.opportunity_id for e in second] == ([late] if found_late else [])


def test_boundary_ids_stay_within_the_look_back_window(portal: Portal) -> None:
    """Old event ids drop out of the cursor once they are older than the look-back."""
    contact = portal.contact()
    base = datetime.now(UTC) - timedelta(hours=2)
    old = [portal.lost_deal([contact], modified_at=base + timedelta(seconds=i)) for i in range(5)]
    recent = [
        portal.lost_deal([contact], modified_at=base + timedelta(hours=1, seconds=i))
        for i in range(3)
    ]

    _, cursor = read_all(portal, lookback_s=60.0, read_contacts=False)

    assert cursor is not None
    assert cursor.boundary_ids == {f"hs:deal:{d}" for d in recent}
    assert not cursor.boundary_ids & {f"hs:deal:{d}" for d in old}


def test_nothing_after_until_and_deals_without_contacts_are_kept(portal: Portal) -> None:
    """Records positioned after `until` wait for a later read; a deal nobody is associated
    with (and no company) becomes an account-level event, and the cursor moves past it."""
    now = datetime.now(UTC)
    contact = portal.contact()
    orphan = portal.lost_deal([], modified_at=now - timedelta(minutes=3))
    kept = portal.lost_deal([contact], modified_at=now - timedelta(minutes=2))
    portal.lost_deal([contact], modified_at=now - timedelta(seconds=5))

    events, cursor = read_all(portal, until=now - timedelta(minutes=1), read_contacts=False)

    assert [e.opportunity_id for e in events] == [orphan, kept]
    assert events[0].prospect.ref.is_account
    assert events[0].contact_fallback is ContactFallback.ACCOUNT_PLAN
    assert cursor is not None and f"hs:deal:{orphan}" in cursor.boundary_ids
