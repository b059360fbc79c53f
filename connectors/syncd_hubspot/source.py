"""Closed-lost deals and rejected contacts, read incrementally through CRM search.

Two scans run side by side and are merged in (position, event id) order: deals whose stage is
a closed-lost stage of any pipeline (discovered from the pipelines API: closed, probability 0),
and contacts whose `hs_lead_status` the config maps to a rejection.

The hits are completed in batches that span several search pages: up to `read_batch` hits are
gathered (a few pages of 200), then their associations (deal -> contacts, deal -> company;
1,000 ids a call) and the contacts and companies (100 a call) are read together, never one
call per deal or per page. The pages are then handed out in order, each with the cursor it
had when it was scanned, so a cursor always comes with a page whose records are complete.

The cursor is the modification timestamp. Records reach search some time after they change,
so each read starts `lookback_s` before the cursor and the cursor's `boundary_ids` hold every
event id seen inside that look-back window: late arrivals are picked up, nothing is repeated.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

import structlog

from syncd.connectors import ConfigError
from syncd.model import (
    ACCOUNT_KIND,
    Account,
    ContactFallback,
    Cursor,
    Owner,
    Page,
    Prospect,
    ProspectRef,
    RejectionEvent,
    SourceKind,
)
from syncd_hubspot.crm import Crm, Props
from syncd_hubspot.people import (
    COMPANY_PROPERTIES,
    account_from,
    contact_properties,
    number,
    prospect_from,
    text,
)
from syncd_hubspot.scan import Hit, ScanSpec, parse_instant, position_of, scan
from syncd_hubspot.settings import HubSpotSettings

log = structlog.get_logger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEAL_PROPERTIES = (
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "deal_currency_code",
    "closedate",
    "closed_lost_reason",
    "hubspot_owner_id",
)


@dataclass(frozen=True)
class _Keyed:
    """A hit with the event id it will become; the merge and the cursor key on it."""

    key: str
    kind: str  # "deal" | "contact"
    hit: Hit


@dataclass(frozen=True)
class _Scanned:
    """One page of hits as scanned: the fresh ones, and the cursor and unreadable records
    that go out with it once its records are complete."""

    items: list[_Keyed]
    hits: int
    cursor: Cursor
    unreadable: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Related:
    """What the batch reads found for a batch of hits."""

    deal_contacts: dict[str, list[str]]
    deal_company: dict[str, list[str]]
    company_contacts: dict[str, list[str]]
    contacts: dict[str, Props]
    accounts: dict[str, Account]


class _Boundary:
    """The cursor being built: the furthest position, and the event ids seen in the
    look-back window behind it (plus the previous cursor's, until the scan passes it)."""

    def __init__(self, cursor: Cursor | None, lookback: timedelta):
        self.value = cursor.value if cursor else ""
        self._start_value = self.value
        self._skip = cursor.boundary_ids if cursor else frozenset()
        self._carried = set(self._skip)
        self._seen: dict[str, str] = {}
        self._lookback = lookback
        self._scanned_to = ""

    def observe(self, item: _Keyed) -> bool:
        """Record a hit; False when this read or the cursor has seen it already."""
        fresh = item.key not in self._skip and item.key not in self._seen
        self._seen[item.key] = item.hit.position
        self._carried.discard(item.key)
        self._scanned_to = item.hit.position
        self.value = max(self.value, item.hit.position)
        return fresh

    def cursor(self) -> Cursor:
        floor = position_of(parse_instant(self.value) - self._lookback) if self.value else ""
        self._seen = {k: p for k, p in self._seen.items() if p >= floor}
        keep = set(self._seen)
        if self._scanned_to <= self._start_value:
            keep |= self._carried  # not yet re-read: still needed to skip them later
        return Cursor(self.value, frozenset(keep))


class HubSpotSource:
    def __init__(self, crm: Crm, settings: HubSpotSettings, shard: str):
        self._crm = crm
        self._settings = settings
        self._shard = shard
        self._contact_props = (
            *contact_properties(settings.channel_optout_properties),
            "notes_last_updated",
        )
        self._as_of = datetime.now(UTC)  # "recent" is measured back from the read's end

    # --- reading -------------------------------------------------------------------------

    def read(self, cursor: Cursor | None, until: datetime) -> Iterator[Page]:
        lookback = timedelta(seconds=self._settings.lookback_s)
        since = parse_instant(cursor.value) - lookback if cursor and cursor.value else EPOCH
        boundary = _Boundary(cursor, lookback)
        self._as_of = until
        merged = heapq.merge(*self._streams(since, until), key=lambda k: (k.hit.position, k.key))
        scanned = self._scanned(merged, boundary)
        last_value = boundary.value
        while batch := self._batch(scanned):
            related = self._related([item for page in batch for item in page.items])
            # Records the batch reads could not read go out with the batch's first page.
            late = self._crm.unreadable.drain()
            for page in batch:
                events = self._events(page.items, related)
                unreadable, late = page.unreadable + late, ()
                log.info("hubspot.page", hits=page.hits, events=len(events))
                # A page without events still moves the cursor past records that yield none.
                if events or unreadable or page.cursor.value != last_value:
                    last_value = page.cursor.value
                    yield Page(events, page.cursor, unreadable)

    def _scanned(self, merged: Iterator[_Keyed], boundary: _Boundary) -> Iterator[_Scanned]:
        """Pages of `page_size` hits, each with the cursor as it stood at its end."""
        while chunk := list(islice(merged, self._settings.page_size)):
            fresh = [item for item in chunk if boundary.observe(item)]
            cursor = boundary.cursor()  # also forgets ids older than the look-back
            yield _Scanned(fresh, len(chunk), cursor, self._crm.unreadable.drain())

    def _batch(self, scanned: Iterator[_Scanned]) -> list[_Scanned]:
        """The next pages to complete together: at least one, and while another full page
        fits, no more than `read_batch` hits in all (the bound on what a read holds)."""
        batch: list[_Scanned] = []
        held = 0
        for page in scanned:
            batch.append(page)
            held += page.hits
            if held + self._settings.page_size > self._settings.read_batch:
                break
        return batch

    def _streams(self, since: datetime, until: datetime) -> list[Iterator[_Keyed]]:
        streams = []
        size = self._settings.page_size
        if self._settings.read_deals:
            lost = sorted({s.stage_id for s in self._crm.deal_stages() if s.lost})
            if not lost:
                raise ConfigError(
                    "no deal pipeline has a closed-lost stage (closed, probability 0); "
                    "check the portal's pipelines or set read_deals = false"
                )
            extra = (
                (self._settings.competitor_property,) if self._settings.competitor_property else ()
            )
            spec = ScanSpec(
                "deals",
                "hs_lastmodifieddate",
                ({"propertyName": "dealstage", "operator": "IN", "values": lost},),
                (*DEAL_PROPERTIES, *extra),
                size,
            )
            streams.append(self._keyed(scan(self._crm, spec, since, until), "deal"))
        statuses = sorted(self._settings.lead_statuses)
        if self._settings.read_contacts and statuses:
            spec = ScanSpec(
                "contacts",
                "lastmodifieddate",
                ({"propertyName": "hs_lead_status", "operator": "IN", "values": statuses},),
                (*self._contact_props, "hs_lead_status"),
                size,
            )
            streams.append(self._keyed(scan(self._crm, spec, since, until), "contact"))
        return streams

    @staticmethod
    def _keyed(pages: Iterable[list[Hit]], kind: str) -> Iterator[_Keyed]:
        for page in pages:
            for hit in page:
                if kind == "deal":
                    key = f"hs:deal:{hit.id}"
                else:
                    key = f"hs:contact:{hit.id}:{hit.props.get('hs_lead_status')}"
                yield _Keyed(key, kind, hit)

    # --- completing hits in batches ------------------------------------------------------

    def _related(self, items: Sequence[_Keyed]) -> _Related:
        """Associations, contacts and companies of these hits, read in batches."""
        deals = [i for i in items if i.kind == "deal"]
        leads = [i for i in items if i.kind == "contact"]
        deal_ids = [i.hit.id for i in deals]
        deal_contacts = self._crm.associations("deals", "contacts", deal_ids) if deals else {}
        deal_company = self._crm.associations("deals", "companies", deal_ids) if deals else {}
        # Deals naming nobody: their company's contacts, read in the same batches.
        lonely = [d for d in deal_ids if not deal_contacts.get(d) and deal_company.get(d)]
        company_contacts: dict[str, list[str]] = {}
        if lonely and "recent_activity" in self._settings.contactless_fallback:
            company_contacts = self._crm.associations(
                "companies", "contacts", [deal_company[d][0] for d in lonely]
            )
        contacts: dict[str, Props] = {i.hit.id: i.hit.props for i in leads}
        wanted = [c for ids in deal_contacts.values() for c in ids if c not in contacts]
        wanted += [c for ids in company_contacts.values() for c in ids if c not in contacts]
        contacts.update(self._crm.batch_read("contacts", wanted, self._contact_props))
        company_ids = [ids[0] for ids in deal_company.values() if ids]
        company_ids += [str(p.get("associatedcompanyid") or "") for p in contacts.values()]
        companies = self._crm.batch_read("companies", company_ids, COMPANY_PROPERTIES)
        accounts = {cid: account_from(self._shard, cid, p) for cid, p in companies.items()}
        return _Related(deal_contacts, deal_company, company_contacts, contacts, accounts)

    def _events(self, items: Sequence[_Keyed], related: _Related) -> list[RejectionEvent]:
        contacts, accounts = related.contacts, related.accounts
        events = []
        for item in items:
            if item.kind == "deal":
                company = next(iter(related.deal_company.get(item.hit.id, [])), None)
                colleagues = related.company_contacts.get(company or "", [])
                event = self._deal_event(
                    item,
                    [c for c in related.deal_contacts.get(item.hit.id, []) if c in contacts],
                    contacts,
                    accounts,
                    company,
                    [c for c in colleagues if c in contacts],
                )
            else:
                event = self._lead_event(item, accounts)
            if event is not None:
                events.append(event)
        return events

    def _person(
        self,
        contact_id: str,
        props: Props,
        accounts: dict[str, Account],
        company: str | None,
        owner_id: str | None = None,
    ) -> Prospect:
        account = accounts.get(company or "") or accounts.get(
            str(props.get("associatedcompanyid") or "")
        )
        return prospect_from(
            self._shard,
            contact_id,
            props,
            account=account,
            channel_properties=self._settings.channel_optout_properties,
            owner_id=owner_id,
        )

    def _deal_event(
        self,
        item: _Keyed,
        contact_ids: list[str],
        contacts: dict[str, Props],
        accounts: dict[str, Account],
        company: str | None,
        colleagues: list[str],
    ) -> RejectionEvent:
        deal = item.hit.props
        owner = text(deal.get("hubspot_owner_id"))
        people = [self._person(c, contacts[c], accounts, company, owner) for c in contact_ids]
        fallback = None
        if not people:  # never dropped: the company's active contact, else the company
            active = self._recently_active(colleagues, contacts)
            if active is not None:
                people = [self._person(active, contacts[active], accounts, company, owner)]
                fallback = ContactFallback.RECENT_ACTIVITY
            else:
                account = accounts.get(company or "")
                ref = ProspectRef(self._shard, ACCOUNT_KIND, company or item.hit.id)
                name = account.name if account else None
                people = [Prospect(ref, account, Owner(owner) if owner else None, name=name)]
                fallback = ContactFallback.ACCOUNT_PLAN
        amount = number(deal.get("amount"))
        competitor = (
            deal.get(self._settings.competitor_property)
            if self._settings.competitor_property
            else None
        )
        return RejectionEvent(
            event_id=item.key,
            source=SourceKind.OPPORTUNITY,
            occurred_at=_when(deal.get("closedate"), item.hit.position),
            prospect=people[0],
            position=item.hit.position,
            reason_raw=text(deal.get("closed_lost_reason")),
            competitor=text(competitor),
            amount=amount,
            currency=text(deal.get("deal_currency_code")),
            opportunity_id=item.hit.id,
            related=tuple(people[1:]),
            contact_fallback=fallback,
        )

    def _recently_active(self, ids: list[str], contacts: dict[str, Props]) -> str | None:
        """The contact with the latest Last Activity Date within recent_activity_days."""
        floor = self._as_of - timedelta(days=self._settings.recent_activity_days)
        best: tuple[datetime, str] | None = None
        for cid in ids:
            raw = contacts[cid].get("notes_last_updated")
            try:
                at = parse_instant(str(raw)) if raw else None
            except ValueError:
                at = None
            if at is not None and at >= floor and (best is None or at > best[0]):
                best = (at, cid)
        return best[1] if best else None

    def _lead_event(self, item: _Keyed, accounts: dict[str, Account]) -> RejectionEvent:
        props = item.hit.props
        status = str(props.get("hs_lead_status"))
        return RejectionEvent(
            event_id=item.key,
            source=SourceKind.LEAD,
            occurred_at=parse_instant(item.hit.position),
            prospect=self._person(item.hit.id, props, accounts, None),
            position=item.hit.position,
            reason_raw=status,
            reason=self._settings.lead_statuses.get(status),
        )


def _when(value: str | None, fallback: str) -> datetime:
    try:
        return parse_instant(str(value)) if value else parse_instant(fallback)
    except ValueError:
        return parse_instant(fallback)
