"""Reads closed-lost opportunities and rejected leads, incrementally on SystemModstamp.

Each object is read with `SystemModstamp >= cursor` (a closed start: records sharing the
cursor's timestamp are not lost) and `<= until`, ordered by (SystemModstamp, Id); the ids
already seen at the cursor's timestamp are skipped. Opportunities come with their account's
firmographics (relationship fields) and contact roles and stage history (sub-queries) in the
same query — no call per record. The two objects are merged into one ordered stream, cut into
pages that each carry the cursor to resume after them. The first read of a large org (more than
`bulk_threshold` records of an object) goes through Bulk API 2.0 instead (`backfill.py`): the
jobs of both objects are all started before any is waited for.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from syncd.model import Cursor, Page, RejectionEvent
from syncd_salesforce.backfill import (
    HISTORY_ROWS,
    Backfill,
    BulkJob,
    opportunity_jobs,
    record_job,
)
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.contactless import ContactlessResolver
from syncd_salesforce.errors import QueryLocatorExpired
from syncd_salesforce.profile import OrgFacts, OrgProfile
from syncd_salesforce.records import (
    Fields,
    Mapper,
    Record,
    position,
    select,
    soql_datetime,
    soql_in,
)
from syncd_salesforce.settings import SalesforceSettings

log = structlog.get_logger(__name__)
MAX_RESTARTS = 3


@dataclass(frozen=True)
class Row:
    position: str
    id: str
    event: RejectionEvent | None


def rejection_statuses(settings: SalesforceSettings, profile: OrgProfile) -> list[str]:
    """The mapped lead statuses this org has (the check at start refuses missing explicit ones)."""
    existing = set(profile.lead_statuses) - profile.converted_statuses
    return [s for s in settings.lead_statuses if s in existing]


class SalesforceSource:
    def __init__(
        self,
        client: SalesforceClient,
        facts: OrgFacts,
        settings: SalesforceSettings,
        shard: str,
        spill_dir: Path | None = None,
    ):
        self._client = client
        self._facts = facts
        self._settings = settings
        self._shard = shard
        self._backfill = Backfill(client, spill_dir, shard)
        # Records that can never be read (fields of the wrong shape): (ref, why), carried on
        # the next page for the engine to dead-letter.
        self._unreadable: list[tuple[str, str]] = []

    def close(self) -> None:
        """Closes the HTTP session the shard's roles share (Connector.close calls it)."""
        self._client.close()

    def read(self, cursor: Cursor | None, until: datetime) -> Iterator[Page]:
        start = cursor.value if cursor is not None and cursor.value else None
        skip = cursor.boundary_ids if cursor is not None else frozenset()
        upper = soql_datetime(until)
        opp_where = ["IsClosed = true", "IsWon = false"]
        sizes: dict[str, int] = {}
        if start is not None:
            self._backfill.discard()  # a backfill's rows are committed: its checkpoint goes
        if start is None:
            # The first read counts both objects (large orgs go through Bulk API 2.0), in the
            # same round-trip as the org profile. Statuses the org lacks simply match nothing.
            # A backfill under way keeps the bound its jobs were started with.
            pinned = self._backfill.bound()
            profile, sizes = self._first_counts(opp_where, pinned or upper)
            threshold = self._settings.bulk_threshold
            if pinned is not None and not any(n > threshold for n in sizes.values()):
                self._backfill.discard()  # nothing left to resume through bulk jobs
                pinned = None
                profile, sizes = self._first_counts(opp_where, upper)
            if pinned is not None:
                upper = pinned
            elif any(n > threshold for n in sizes.values()):
                self._backfill.pin(upper)
        else:
            profile = self._facts.profile()
        statuses = rejection_statuses(self._settings, profile)
        lead_where = self._lead_where(statuses) if statuses else []
        mapper = Mapper(self._shard, self._settings, profile)
        fields = Fields(self._settings, profile)
        bound = f"SystemModstamp <= {upper}"
        opp_jobs: list[BulkJob] = []
        lead_jobs: list[BulkJob] = []
        threshold = self._settings.bulk_threshold
        if self._settings.read_opportunities and sizes.get("opportunity", 0) > threshold:
            log.info("salesforce.backfill", sobject="Opportunity", records=sizes["opportunity"])
            opp_jobs = opportunity_jobs(
                fields.opportunity(), fields.role(), fields.history(), [*opp_where, bound]
            )
        if lead_where and sizes.get("lead", 0) > threshold:
            log.info("salesforce.backfill", sobject="Lead", records=sizes["lead"])
            lead_jobs = [record_job("Lead", fields.lead(), [*lead_where, bound])]
        self._backfill.start([*opp_jobs, *lead_jobs])  # they process while the first is read
        streams: list[Iterator[Row]] = []
        if self._settings.read_opportunities:
            streams.append(
                self._opportunities(mapper, fields, opp_where, start, skip, upper, opp_jobs)
            )
        if lead_where:
            streams.append(self._leads(mapper, fields, lead_where, start, skip, upper, lead_jobs))
        merged = heapq.merge(*streams, key=lambda row: (row.position, row.id))
        contactless = ContactlessResolver(self._client, mapper, fields, self._settings, until)
        for page in self._pages(merged, start, skip):
            yield Page(contactless.resolve(page.events), page.cursor, page.unreadable)

    def _first_counts(self, opp_where: list[str], upper: str) -> tuple[OrgProfile, dict[str, int]]:
        """The org profile and the first read's record counts up to `upper`, in one call."""
        counts: dict[str, str] = {}
        if self._settings.read_opportunities:
            counts["opportunity"] = self._count("Opportunity", opp_where, upper)
        if self._settings.lead_statuses:
            configured = self._lead_where(list(self._settings.lead_statuses))
            counts["lead"] = self._count("Lead", configured, upper)
        return self._facts.load(counts)

    @staticmethod
    def _lead_where(statuses: list[str]) -> list[str]:
        return ["IsConverted = false", f"Status IN {soql_in(statuses)}"]

    @staticmethod
    def _count(sobject: str, where: list[str], upper: str) -> str:
        return select(["COUNT()"], sobject, [*where, f"SystemModstamp <= {upper}"])

    def _pages(
        self, rows: Iterator[Row], start: str | None, skip: frozenset[str]
    ) -> Iterator[Page]:
        events: list[RejectionEvent] = []
        count = 0
        last = start
        at_last: set[str] = set(skip) if start is not None else set()
        for row in rows:
            if row.position == start and row.id in skip:
                continue
            if row.position != last:
                last, at_last = row.position, set()
            at_last.add(row.id)
            if row.event is not None:
                events.append(row.event)
            count += 1
            if count >= self._settings.page_size:
                yield Page(events, Cursor(row.position, frozenset(at_last)), self._drain())
                events, count = [], 0
        if (count or self._unreadable) and last is not None:
            yield Page(events, Cursor(last, frozenset(at_last)), self._drain())

    def _drain(self) -> tuple[tuple[str, str], ...]:
        items, self._unreadable = tuple(self._unreadable), []
        return items

    def _converted(
        self, convert: Callable[[Record], Row], records: Iterable[Record], what: str
    ) -> Iterator[Row]:
        """Rows of the records that can be read; the others are noted as unreadable."""
        for record in records:
            try:
                yield convert(record)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                ref = record.get("Id") if isinstance(record, dict) else None
                why = f"{what}: record of the wrong shape ({type(exc).__name__})"
                self._unreadable.append((f"sf:{ref if isinstance(ref, str) else '?'}", why))

    # --- opportunities --------------------------------------------------------------------------

    def _opportunities(
        self,
        mapper: Mapper,
        fields: Fields,
        where: list[str],
        start: str | None,
        skip: frozenset[str],
        upper: str,
        jobs: list[BulkJob],
    ) -> Iterator[Row]:
        """Through the backfill's `jobs` when there are any, else paged REST queries."""

        def convert(record: Record) -> Row:
            return Row(
                position(record["SystemModstamp"]), str(record["Id"]), mapper.opportunity(record)
            )

        if jobs:
            records = self._backfill.opportunities(jobs)
            yield from self._converted(convert, records, "backfill.opportunities")
            return
        roles = select(
            fields.role(), "OpportunityContactRoles", order="IsPrimary DESC, CreatedDate, Id"
        )
        history = select(
            fields.history(),
            "OpportunityHistories",
            order="CreatedDate DESC, Id DESC",
            limit=HISTORY_ROWS,
        )
        columns = [*fields.opportunity(), f"({roles})", f"({history})"]
        soql = _from(columns, "Opportunity", where, upper)
        yield from self._rest_rows(soql, start, skip, convert, what="read.opportunities")

    # --- leads ----------------------------------------------------------------------------------

    def _leads(
        self,
        mapper: Mapper,
        fields: Fields,
        where: list[str],
        start: str | None,
        skip: frozenset[str],
        upper: str,
        jobs: list[BulkJob],
    ) -> Iterator[Row]:
        def convert(record: Record) -> Row:
            return Row(position(record["SystemModstamp"]), str(record["Id"]), mapper.lead(record))

        if jobs:
            (job,) = jobs
            records = self._backfill.records(job)
            yield from self._converted(convert, records, "backfill.leads")
            return
        soql = _from(fields.lead(), "Lead", where, upper)
        yield from self._rest_rows(soql, start, skip, convert, what="read.leads")

    # --- REST paging with restart -----------------------------------------------------------------

    def _rest_rows(
        self,
        soql: Callable[[str | None], str],
        start: str | None,
        skip: frozenset[str],
        convert: Callable[[Record], Row],
        *,
        what: str,
    ) -> Iterator[Row]:
        """Rows of a paged query; a dead locator restarts it from the last position read."""
        low, seen = start, set(skip)
        restarts = 0
        while True:
            try:
                for page in self._client.query_pages(soql(low), what=what):
                    for row in self._converted(convert, page, what):
                        if row.position == low and row.id in seen:
                            continue
                        if row.position != low:
                            low, seen = row.position, set()
                        seen.add(row.id)
                        yield row
                    log.debug("salesforce.page", what=what, records=len(page))
                return
            except QueryLocatorExpired:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise
                log.info("salesforce.query_restarted", what=what, restarts=restarts)


def _from(
    columns: list[str], sobject: str, where: list[str], upper: str
) -> Callable[[str | None], str]:
    """The paged read's query from a position on (from the start when None), up to `upper`."""

    def soql(low: str | None) -> str:
        bounds = [f"SystemModstamp >= {low}"] if low else []
        conditions = [*where, *bounds, f"SystemModstamp <= {upper}"]
        return select(columns, sobject, conditions, order="SystemModstamp, Id")

    return soql
