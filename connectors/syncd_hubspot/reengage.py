"""New open deals, read incrementally on `createdate`: what brings a nurtured company back.

One search per cycle over deals created since the cursor whose stage is not a closed stage
(more pages only when that many were opened), with the companies they belong to read in one
associations batch per page. Search lags behind writes, so like the rejection read each read
starts `lookback_s` before the cursor, and the ids seen inside that window are carried in the
cursor's `boundary_ids` to be skipped. The first read sets the cursor at `until` without a
search: nothing before syncd ran was nurtured by it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice

from syncd.model import AccountRef, Cursor, NewOpportunity, OpportunityPage
from syncd_hubspot.crm import Crm
from syncd_hubspot.people import number
from syncd_hubspot.scan import ScanSpec, parse_instant, position_of, scan
from syncd_hubspot.settings import HubSpotSettings
from syncd_hubspot.source import _Boundary, _Keyed

PROPERTIES = ("createdate", "amount", "deal_currency_code", "dealstage")


class HubSpotReengagements:
    def __init__(self, crm: Crm, settings: HubSpotSettings, shard: str):
        self._crm = crm
        self._settings = settings
        self._shard = shard

    def new_opportunities(
        self, cursor: Cursor | None, until: datetime
    ) -> Iterator[OpportunityPage]:
        if cursor is None or not cursor.value:
            yield OpportunityPage([], Cursor(position_of(until)))
            return
        lookback = timedelta(seconds=self._settings.lookback_s)
        since = parse_instant(cursor.value) - lookback
        closed = sorted({s.stage_id for s in self._crm.deal_stages() if s.closed})
        filters = ({"propertyName": "dealstage", "operator": "NOT_IN", "values": closed},)
        spec = ScanSpec("deals", "createdate", filters if closed else (), PROPERTIES)
        boundary = _Boundary(cursor, lookback)
        hits = (
            _Keyed(f"hs:newdeal:{hit.id}", "deal", hit)
            for page in scan(self._crm, spec, since, until)
            for hit in page
        )
        moved = False
        while True:
            chunk = [item for item in islice(hits, self._settings.page_size)]
            if not chunk:
                break
            fresh = [item.hit for item in chunk if boundary.observe(item)]
            companies = self._crm.associations("deals", "companies", [h.id for h in fresh])
            found = [
                NewOpportunity(
                    id=hit.id,
                    account=AccountRef(self._shard, companies[hit.id][0]),
                    created_at=parse_instant(str(hit.props["createdate"])),
                    position=hit.position,
                    amount=number(hit.props.get("amount")),
                    currency=hit.props.get("deal_currency_code") or None,
                )
                for hit in fresh
                if companies.get(hit.id)
            ]
            moved = True
            yield OpportunityPage(found, boundary.cursor())
        if not moved:
            yield OpportunityPage([], boundary.cursor())
