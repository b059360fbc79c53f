"""CRM search as the fake portal evaluates it: filter groups, one sort, offset paging.

Kept apart from the HTTP layer so its rules can be read in one place: filters within a group
are ANDed and groups ORed; string IN / NOT_IN values must be lower-case (the portal indexes
strings lower-cased, so upper-case values silently match nothing, as in a real portal);
enumerations compare exactly; dates accept epoch milliseconds or ISO 8601.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
    }
)
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_LIMIT = 200
MAX_BODY_CHARS = 3000


class SearchError(ValueError):
    """The request is one the portal answers with 400."""


def parse_time(value: Any) -> datetime:
    """Epoch milliseconds or ISO 8601, as the API accepts both."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    """The portal's timestamp format: UTC, milliseconds, `Z`."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Query:
    groups: list[list[dict[str, Any]]]
    sort_property: str | None
    descending: bool
    properties: list[str]
    limit: int
    after: int


def parse_query(body: Mapping[str, Any], raw_size: int, known: Callable[[str], bool]) -> Query:
    """Validate a search request the way the portal does; raises SearchError."""
    if raw_size > MAX_BODY_CHARS:
        raise SearchError(f"request body exceeds {MAX_BODY_CHARS} characters")
    groups = [list(g.get("filters") or []) for g in body.get("filterGroups") or []]
    if len(groups) > MAX_GROUPS:
        raise SearchError(f"at most {MAX_GROUPS} filterGroups")
    if any(len(g) > MAX_FILTERS_PER_GROUP for g in groups):
        raise SearchError(f"at most {MAX_FILTERS_PER_GROUP} filters in a group")
    if sum(len(g) for g in groups) > MAX_FILTERS:
        raise SearchError(f"at most {MAX_FILTERS} filters in all")
    for group in groups:
        for flt in group:
            if flt.get("operator") not in OPERATORS:
                raise SearchError(f"unknown operator {flt.get('operator')!r}")
            if not known(str(flt.get("propertyName"))):
                raise SearchError(f"property {flt.get('propertyName')!r} does not exist")
    sorts = body.get("sorts") or []
    if len(sorts) > 1:
        raise SearchError("only one sort is supported")
    sort_property, descending = None, False
    if sorts:
        rule = sorts[0]
        if isinstance(rule, str):
            descending = rule.startswith("-")
            sort_property = rule.lstrip("-")
        else:
            sort_property = str(rule.get("propertyName"))
            descending = str(rule.get("direction", "ASCENDING")).upper() == "DESCENDING"
    limit = int(body.get("limit") or 10)
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}")
    after_raw = body.get("after")
    after = int(after_raw) if after_raw not in (None, "") else 0
    return Query(
        groups, sort_property, descending, list(body.get("properties") or []), limit, after
    )


Coerce = Callable[[str, str], Any]


def _matches(
    flt: Mapping[str, Any], props: Mapping[str, str | None], kind: str, coerce: Coerce
) -> bool:
    name = str(flt["propertyName"])
    op = str(flt["operator"])
    raw = props.get(name)
    present = raw not in (None, "")
    if op == "HAS_PROPERTY":
        return present
    if op == "NOT_HAS_PROPERTY":
        return not present
    if op in ("IN", "NOT_IN"):
        values = [str(v) for v in flt.get("values") or []]
        hit: bool
        if kind == "string":
            hit = present and str(raw).lower() in values
        else:
            hit = present and any(bool(coerce(name, v) == coerce(name, str(raw))) for v in values)
        return hit if op == "IN" else not hit
    if not present:
        return op == "NEQ"
    value = coerce(name, str(raw))
    if kind == "string":
        value = str(raw).lower()
        target: Any = str(flt.get("value", "")).lower()
    else:
        target = coerce(name, str(flt.get("value", "")))
    if op == "EQ":
        return bool(value == target)
    if op == "NEQ":
        return bool(value != target)
    if op == "BETWEEN":
        high = coerce(name, str(flt.get("highValue", "")))
        return bool(target <= value <= high)
    return bool(
        {
            "LT": value < target,
            "LTE": value <= target,
            "GT": value > target,
            "GTE": value >= target,
        }[op]
    )


def evaluate(
    query: Query,
    rows: Iterable[tuple[str, Mapping[str, str | None]]],
    kind_of: Callable[[str], str],
    coerce: Coerce,
) -> list[str]:
    """Ids of the matching rows, in the query's order (ties broken by id)."""

    def accepted(props: Mapping[str, str | None]) -> bool:
        if not query.groups:
            return True
        return any(
            all(_matches(f, props, kind_of(str(f["propertyName"])), coerce) for f in group)
            for group in query.groups
        )

    hits = [(rid, props) for rid, props in rows if accepted(props)]
    if query.sort_property is None:
        hits.sort(key=lambda h: int(h[0]))
        return [rid for rid, _ in hits]
    name = query.sort_property
    with_value = [
        (coerce(name, str(p[name])), rid) for rid, p in hits if p.get(name) not in (None, "")
    ]
    without = sorted((int(rid) for rid, p in hits if p.get(name) in (None, "")))
    with_value.sort(key=lambda v: (v[0], int(v[1])), reverse=query.descending)
    return [rid for _, rid in with_value] + [str(rid) for rid in without]
