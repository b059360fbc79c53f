"""New open opportunities, read incrementally on CreatedDate: what brings a nurtured account back.

One SOQL query per cycle (more pages only when that many opportunities were opened): open
opportunities with `CreatedDate >= cursor` (a closed start; the ids already seen at the
cursor's timestamp are skipped) and `<= until`, ordered by (CreatedDate, Id). The first read
sets the cursor at `until` without a query: nothing before syncd ran was nurtured by it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from syncd.model import AccountRef, Cursor, NewOpportunity, OpportunityPage
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.records import number, parse_timestamp, position, select, soql_datetime, text

FIELDS = ("Id", "AccountId", "Amount", "CreatedDate")


class SalesforceReengagements:
    def __init__(self, client: SalesforceClient, shard: str, page_size: int):
        self._client = client
        self._shard = shard
        self._page_size = page_size

    def new_opportunities(
        self, cursor: Cursor | None, until: datetime
    ) -> Iterator[OpportunityPage]:
        if cursor is None or not cursor.value:
            yield OpportunityPage([], Cursor(soql_datetime(until)))
            return
        start, skip = cursor.value, cursor.boundary_ids
        where = [
            "IsClosed = false",
            "AccountId != null",
            f"CreatedDate >= {start}",
            f"CreatedDate <= {soql_datetime(until)}",
        ]
        soql = select(FIELDS, "Opportunity", where, order="CreatedDate, Id")
        last, at_last = start, set(skip)
        found: list[NewOpportunity] = []
        for records in self._client.query_pages(soql, what="read.new_opportunities"):
            for record in records:
                at = position(record["CreatedDate"])
                rid = str(record["Id"])
                if at == start and rid in skip:
                    continue
                if at != last:
                    last, at_last = at, set()
                at_last.add(rid)
                created = parse_timestamp(record["CreatedDate"])
                assert created is not None  # position() above has parsed it
                found.append(
                    NewOpportunity(
                        id=rid,
                        account=AccountRef(self._shard, str(record["AccountId"])),
                        created_at=created,
                        position=at,
                        amount=number(record.get("Amount")),
                        currency=text(record.get("CurrencyIsoCode")),
                    )
                )
                if len(found) >= self._page_size:
                    yield OpportunityPage(found, Cursor(last, frozenset(at_last)))
                    found = []
        yield OpportunityPage(found, Cursor(last, frozenset(at_last)))
