"""Malformed HubSpot answers, through hubspot-api-client against the fake: a 200 of the wrong
shape is a retriable error (never an empty last page), and one unreadable record is
dead-lettered with its page while the others are read."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import pytest

from syncd.connectors import MalformedAnswer, RetriableError
from syncd.model import WriteStatus
from syncd.testing.httpfake import Malformed
from tests.integration.hubspot.test_hubspot_sink import ready, spec  # noqa: F401
from tests.integration.hubspot.test_hubspot_source import FAR, read_all

if TYPE_CHECKING:
    from conftest import Portal

SEARCH = r"/deals/search$"
VARIANTS = [
    (Malformed.MISSING_KEY, "results"),
    (Malformed.MISSING_KEY, None),
    (Malformed.WRONG_TYPE, None),
    (Malformed.WRONG_TYPE, "paging"),
    (Malformed.TRUNCATED, None),
    (Malformed.HTML, None),
]


def _deals(portal: Portal, count: int) -> list[str]:
    contact = portal.contact()
    return [portal.lost_deal([contact]) for _ in range(count)]


@pytest.mark.parametrize(("how", "key"), VARIANTS)
def test_a_lasting_malformed_search_answer_is_a_retriable_error(
    portal: Portal, how: Malformed, key: str | None
) -> None:
    """Every garbled search answer ends the read with a MalformedAnswer (the cursor stays),
    not with an empty page, and not with AttributeError, TypeError or JSONDecodeError."""
    _deals(portal, 3)
    portal.fake.malform(how, key=key, path=SEARCH, times=100)
    with pytest.raises(MalformedAnswer):
        read_all(portal, page_size=2)


@pytest.mark.parametrize(("how", "key"), VARIANTS)
def test_a_passing_malformed_answer_loses_nothing(
    portal: Portal, how: Malformed, key: str | None
) -> None:
    """One garbled answer on the second search page is retried in the call: every deal is
    read, none twice (a 200 without `results` used to end the read early)."""
    deals = _deals(portal, 5)
    portal.fake.malform(how, key=key, path=SEARCH, times=1)
    before = len(portal.fake.calls(path=SEARCH))
    first, _ = read_all(portal, page_size=2)
    assert len(portal.fake.calls(path=SEARCH)) > before
    assert Counter(e.event_id for e in first) == Counter(f"hs:deal:{d}" for d in deals)


def test_one_unreadable_record_is_dead_lettered_with_its_page(portal: Portal) -> None:
    """A search result whose properties are of the wrong type is listed as unreadable on the
    page (the engine dead-letters it); the other deals are read."""
    deals = _deals(portal, 3)
    portal.fake.malform(Malformed.BAD_RECORD, path=SEARCH)
    conn = portal.connect()
    assert conn.source is not None
    pages = list(conn.source.read(None, FAR))
    unreadable = [ref for page in pages for ref, _ in page.unreadable]
    events = {e.event_id for page in pages for e in page.events}
    assert unreadable == [f"hs:deals:{deals[0]}"]
    assert events == {f"hs:deal:{d}" for d in deals[1:]}


ASSOCIATIONS = r"/associations/deals/contacts/batch/read$"


@pytest.mark.parametrize(("how", "key"), [v for v in VARIANTS if v[1] != "paging"])
def test_a_lasting_malformed_association_answer_hands_out_no_page_of_its_batch(
    portal: Portal, how: Malformed, key: str | None
) -> None:
    """A garbled association answer for the second batch ends the read with a MalformedAnswer
    after the first batch's pages only: no cursor passes deals whose contacts are unread."""
    deals = _deals(portal, 6)
    conn = portal.connect(page_size=2, read_batch=4, read_contacts=False)
    assert conn.source is not None
    pages = conn.source.read(None, FAR)
    first = [next(pages), next(pages)]
    portal.fake.malform(how, key=key, path=ASSOCIATIONS, times=100)
    with pytest.raises(MalformedAnswer):
        next(pages)
    assert [e.opportunity_id for page in first for e in page.events] == deals[:4]


def test_an_unreadable_contact_in_a_batch_read_goes_out_with_the_batch(portal: Portal) -> None:
    """A contact of the wrong shape in the batch read that spans three pages is dead-lettered
    with the batch's first page; every deal still comes out, once."""
    contacts = [portal.contact() for _ in range(3)]
    deals = [portal.lost_deal([c]) for c in contacts]
    portal.fake.malform(Malformed.BAD_RECORD, path=r"^/crm/v3/objects/contacts/batch/read$")
    conn = portal.connect(page_size=1, read_batch=3, read_contacts=False)
    assert conn.source is not None
    pages = list(conn.source.read(None, FAR))
    assert [ref for ref, _ in pages[0].unreadable] == [f"hs:contacts:{contacts[0]}"]
    assert not any(page.unreadable for page in pages[1:])
    assert [e.opportunity_id for page in pages for e in page.events] == deals


@pytest.mark.parametrize("how", [Malformed.TRUNCATED, Malformed.HTML, Malformed.WRONG_TYPE])
def test_a_garbled_answer_to_a_batch_create_is_in_doubt(
    ready: Portal,  # noqa: F811
    how: Malformed,
) -> None:
    """HubSpot applied the batch but its answer came garbled: every write is IN_DOUBT (to be
    looked up, never blindly re-sent), and the tasks exist once each."""
    conn = ready.connect()
    assert conn.sink is not None
    contact = ready.contact()
    batch = [spec(i, contact) for i in range(3)]
    ready.fake.malform(how, path=r"/tasks/batch/create$")
    results = conn.sink.write(batch)
    assert {r.status for r in results} == {WriteStatus.IN_DOUBT}
    assert Counter(ready.task_keys()) == Counter(s.key for s in batch)


def test_a_garbled_oauth_answer_is_retriable(portal: Portal) -> None:
    """The token endpoint answering HTML is a RetriableError, not a KeyError."""
    refresh = portal.fake.add_oauth_app("app-1", "app-secret-1")
    portal.monkeypatch.setenv("SYNCD_TEST_HUBSPOT_SECRET", "app-secret-1")
    portal.monkeypatch.setenv("SYNCD_TEST_HUBSPOT_REFRESH", refresh)
    portal.fake.malform(Malformed.HTML, path=r"^/oauth/", times=100)
    conn = portal.connect(
        access_token=None,
        client_id="app-1",
        client_secret="env:SYNCD_TEST_HUBSPOT_SECRET",
        refresh_token="env:SYNCD_TEST_HUBSPOT_REFRESH",
    )
    assert conn.source is not None
    with pytest.raises(RetriableError):
        list(conn.source.read(None, FAR))
