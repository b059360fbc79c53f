"""Malformed Salesforce answers, through simple-salesforce against the local org: a 200 of
the wrong shape is a retriable error, never an empty or short read, and one unreadable
record is dead-lettered with its page."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from syncd.connectors import MalformedAnswer, RetriableError
from syncd.testing.httpfake import Malformed
from syncd_salesforce.testkit import LocalOrg, Sleeps, read_all
from tests.integration.salesforce.test_sf_sink import people, sink_of, task

QUERY = r"/query/?"
VARIANTS = [
    (Malformed.MISSING_KEY, "records"),
    (Malformed.MISSING_KEY, "nextRecordsUrl"),
    (Malformed.WRONG_TYPE, None),
    (Malformed.WRONG_TYPE, "done"),
    (Malformed.TRUNCATED, None),
    (Malformed.HTML, None),
]


@pytest.mark.parametrize(("how", "key"), [v for v in VARIANTS if v[1] != "nextRecordsUrl"])
def test_a_lasting_malformed_query_answer_is_a_retriable_error(
    org: LocalOrg, sleeps: Sleeps, how: Malformed, key: str | None
) -> None:
    """Every garbled query answer ends the read with a RetriableError, never a KeyError,
    TypeError or JSONDecodeError, and never as the end of the data."""
    org.closed_lost_many(3)
    org.fake.malform(how, key=key, path=QUERY, times=100)
    with pytest.raises(RetriableError):
        read_all(org.connector(sleep=sleeps))


@pytest.mark.parametrize(("how", "key"), VARIANTS)
def test_a_passing_malformed_query_answer_loses_nothing(
    org: LocalOrg, sleeps: Sleeps, how: Malformed, key: str | None
) -> None:
    """One garbled answer (on the first of two pages) is retried in the call: every
    opportunity is read once."""
    ids = org.closed_lost_many(250)
    org.fake.malform(how, key=key, path=QUERY, times=1)
    events, _ = read_all(org.connector(sleep=sleeps, lead_statuses={}, page_size=200))
    assert Counter(e.opportunity_id for e in events) == Counter(ids)
    assert sleeps  # the garbled answer was waited out and asked again


def test_one_unreadable_record_is_dead_lettered_with_its_page(org: LocalOrg) -> None:
    """A record whose fields are of the wrong type is listed as unreadable on its page (the
    engine dead-letters it); the others are read."""
    ids = org.closed_lost_many(3)
    org.fake.malform(Malformed.BAD_RECORD, path=r"/query/?$")
    conn = org.connector(lead_statuses={})  # the opportunity query is the first
    assert conn.source is not None
    pages = list(conn.source.read(None, org_until()))
    unreadable = [ref for page in pages for ref, _ in page.unreadable]
    events = [e.opportunity_id for page in pages for e in page.events]
    assert unreadable == [f"sf:{ids[0]}"]
    assert sorted(events) == sorted(ids[1:])


@pytest.mark.parametrize("how", [Malformed.WRONG_TYPE, Malformed.MISSING_KEY, Malformed.HTML])
def test_a_garbled_answer_to_a_write_is_in_doubt_and_duplicates_nothing(
    org: LocalOrg, how: Malformed
) -> None:
    """The upsert was applied but its answer came garbled: it is in doubt (an unreadable body
    is re-sent in the call; a body of the wrong shape is raised as an in-doubt error and the
    engine re-sends), and each task exists once."""
    specs = [task(f"garbled-{i}", p) for i, p in enumerate(people(org, 3))]
    org.fake.malform(how, path=r"/composite/sobjects")
    sink = sink_of(org.connector(sleep=lambda _s: None))
    try:
        results = sink.write(specs)
    except MalformedAnswer as exc:
        assert exc.in_doubt and how is not Malformed.HTML
        results = sink.write(specs)  # what the engine does next with an idempotent sink
    assert all(r.remote_id for r in results)
    assert Counter(t["Syncd_Key__c"] for t in org.tasks()) == {s.key: 1 for s in specs}


def org_until() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)
