"""Reading everything modified in a time window through CRM search, past its 10,000 cap.

A search pages with `after` but refuses to page past 10,000 results (400), so a long window is
read as a series of queries: sorted ascending on the modification timestamp, each query
restarts (GTE) at the last timestamp seen before the cap, skipping the ids already returned at
that timestamp (timestamps tie). If a whole query's worth of records shares one timestamp,
that instant is read in windows of `hs_object_id` instead, and the scan goes on after it (GT).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from syncd_hubspot.crm import Crm, Props

SEARCH_CAP = 10_000


def parse_instant(value: str) -> datetime:
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def position_of(moment: datetime) -> str:
    """A sortable cursor position: UTC ISO 8601 with milliseconds (string order = time order)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


@dataclass(frozen=True)
class Hit:
    position: str  # see position_of
    id: str
    props: Props


@dataclass(frozen=True)
class ScanSpec:
    object_type: str
    cursor_property: str  # lastmodifieddate (contacts) / hs_lastmodifieddate (others)
    filters: tuple[dict[str, Any], ...]  # the records wanted, ANDed with the time window
    properties: tuple[str, ...]
    page_size: int = 200
    cap: int = SEARCH_CAP


def scan(crm: Crm, spec: ScanSpec, since: datetime, until: datetime) -> Iterator[list[Hit]]:
    """Pages of hits with since <= position <= until, ascending, each record once."""
    lower_op, lower = "GTE", epoch_ms(since)
    high = {"propertyName": spec.cursor_property, "operator": "LTE", "value": epoch_ms(until)}
    tail_position: str | None = None  # the latest position returned so far
    tail_ids: set[str] = set()  # ids returned at tail_position
    while True:
        started_at = tail_position
        low = {"propertyName": spec.cursor_property, "operator": lower_op, "value": lower}
        capped = False
        for rows in _pages(crm, spec, [low, high], spec.cursor_property):
            if rows is None:
                capped = True
                break
            hits = []
            for rid, props in rows:
                try:
                    position = position_of(parse_instant(str(props[spec.cursor_property])))
                except (KeyError, ValueError, OverflowError, OSError):
                    why = f"{spec.object_type}.search: no readable {spec.cursor_property}"
                    crm.unreadable.add(spec.object_type, {"id": rid}, why)
                    continue
                if position == tail_position and rid in tail_ids:
                    continue
                if position != tail_position:
                    tail_position, tail_ids = position, set()
                tail_ids.add(rid)
                hits.append(Hit(position, rid, props))
            if hits:
                yield hits
        if not capped or tail_position is None:
            return
        if tail_position == started_at:  # a whole query at one instant: read it by id
            yield from _one_instant(crm, spec, tail_position, tail_ids)
            lower_op = "GT"
        else:
            lower_op = "GTE"
        lower = epoch_ms(parse_instant(tail_position))


def _one_instant(crm: Crm, spec: ScanSpec, position: str, seen: set[str]) -> Iterator[list[Hit]]:
    at = {
        "propertyName": spec.cursor_property,
        "operator": "EQ",
        "value": epoch_ms(parse_instant(position)),
    }
    last_id = "0"
    while True:
        above = {"propertyName": "hs_object_id", "operator": "GT", "value": last_id}
        capped = False
        for rows in _pages(crm, spec, [at, above], "hs_object_id"):
            if rows is None:
                capped = True
                break
            hits = [Hit(position, rid, props) for rid, props in rows if rid not in seen]
            seen.update(rid for rid, _ in rows)
            if rows:
                last_id = rows[-1][0]
            if hits:
                yield hits
        if not capped:
            return


def _pages(
    crm: Crm, spec: ScanSpec, bounds: list[dict[str, Any]], sort_property: str
) -> Iterator[list[tuple[str, Props]] | None]:
    """Result pages of one query; a final None means the cap stopped it early."""
    after: str | None = None
    while True:
        body: dict[str, Any] = {
            "filterGroups": [{"filters": [*bounds, *spec.filters]}],
            "sorts": [{"propertyName": sort_property, "direction": "ASCENDING"}],
            "properties": list(dict.fromkeys([spec.cursor_property, *spec.properties])),
            "limit": spec.page_size,
        }
        if after is not None:
            body["after"] = after
        rows, after = crm.search(spec.object_type, body)
        yield rows
        if after is None:
            return
        if int(after) + spec.page_size > spec.cap:
            yield None
            return
