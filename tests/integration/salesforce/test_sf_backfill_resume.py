"""A backfill resumed by a later attempt, whose upper bound has moved since its jobs began."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncd.connectors import RetriableError
from syncd.testing.httpfake import Fault, FaultKind, Request
from syncd_salesforce.fake import sf_error
from syncd_salesforce.testkit import LocalOrg, read_all


class _ResultsFail(Fault):
    """Every bulk result page fails (the first attempt runs out of retries)."""

    def matches(self, req: Request) -> bool:
        return "/results" in req.path


def test_records_changed_while_a_backfill_was_interrupted_are_not_skipped(org: LocalOrg) -> None:
    """Deals lost after the first, interrupted attempt of a bulk backfill are read by the
    incremental reads after it, even when the leads, few enough for REST, are read further than
    the resumed jobs reach: the cursor must not pass the deals those jobs cannot return."""
    org.closed_lost_many(30)
    org.lead("Unqualified")
    unavailable = sf_error(503, "SERVER_UNAVAILABLE", "Try again")
    org.fake.inject(_ResultsFail(FaultKind.STATUS, unavailable, times=4))
    with pytest.raises(RetriableError):
        read_all(org.connector(bulk_threshold=3, bulk_page_size=1000), until=datetime.now(UTC))
    late_deal = org.closed_lost()
    org.lead("Unqualified")  # after the late deal: the leads' REST read ends past it
    conn = org.connector(bulk_threshold=3, bulk_page_size=1000)
    events, cursor = read_all(conn, until=datetime.now(UTC))
    later, _ = read_all(conn, cursor)
    read = [e.event_id for e in [*events, *later]]
    assert len(read) == len(set(read)) == 30 + 1 + 2
    assert any(late_deal in ref for ref in read), read[-3:]
