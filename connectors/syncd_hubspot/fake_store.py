"""The fake portal's data: CRM records, their schema, associations and the search index.

The HTTP layer (`fake.py`) speaks the wire format; this module keeps the state and the rules
a real portal enforces on it: typed properties (writing an unknown one is refused, so a
missing `syncd_key` shows up as it would against a real portal), read-only system timestamps,
associations stored in both directions, and a search index that sees a change only
`index_delay_s` after it was made.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from syncd_hubspot.fake_schema import PropertyDef, default_schema
from syncd_hubspot.fake_search import format_time, parse_time

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tasks": "0-27"}
_ALIASES = {
    **{name: name for name in OBJECT_TYPE_IDS},
    **{type_id: name for name, type_id in OBJECT_TYPE_IDS.items()},
    **{name[:-1]: name for name in OBJECT_TYPE_IDS},
    "companie": "companies",
    "company": "companies",
}
LAST_MODIFIED = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
    "tasks": "hs_lastmodifieddate",
}
CREATED = {
    "contacts": "createdate",
    "companies": "createdate",
    "deals": "createdate",
    "tasks": "hs_createdate",
}

# HubSpot-defined association type ids (from, to) -> id; each has an inverse.
ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
    ("tasks", "contacts"): 204,
    ("contacts", "tasks"): 203,
    ("tasks", "companies"): 192,
    ("companies", "tasks"): 191,
    ("tasks", "deals"): 216,
    ("deals", "tasks"): 215,
}
PRIMARY_TYPES: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 1,
    ("companies", "contacts"): 2,
    ("deals", "companies"): 5,
    ("companies", "deals"): 6,
}
_VALID_TYPE_IDS = {
    type_id: pair for table in (ASSOCIATION_TYPES, PRIMARY_TYPES) for pair, type_id in table.items()
}


def canonical_type(name: str) -> str | None:
    """`deals`, `deal` or `0-3` -> `deals`; None for a type the fake does not hold."""
    return _ALIASES.get(name.lower())


class InputError(ValueError):
    """One input the portal refuses (it becomes an error entry of a 207)."""

    def __init__(self, category: str, message: str):
        super().__init__(message)
        self.category = category


class SchemaError(ValueError):
    """The whole request is refused (400), e.g. a property that does not exist."""


@dataclass
class Record:
    id: str
    type: str
    props: dict[str, str]
    created: datetime
    updated: datetime
    indexed: dict[str, str] | None = None  # what search sees; None: not indexed yet
    index_due: datetime | None = None  # when `props` reach the search index

    def as_json(self, properties: Iterable[str] | None = None) -> dict[str, Any]:
        names = self.default_properties() if properties is None else properties
        shown = {n: self.props.get(n) for n in {*names, *self.default_properties()}}
        return {
            "id": self.id,
            "properties": shown,
            "createdAt": format_time(self.created),
            "updatedAt": format_time(self.updated),
            "archived": False,
        }

    def default_properties(self) -> tuple[str, ...]:
        return ("hs_object_id", CREATED[self.type], LAST_MODIFIED[self.type])


@dataclass
class Pipeline:
    id: str
    label: str
    stages: list[dict[str, Any]]  # {"id", "label", "probability", "closed"}
    display_order: int = 0


@dataclass
class StaticList:
    id: str
    name: str
    object_type_id: str
    processing_type: str  # MANUAL | DYNAMIC
    members: dict[str, datetime] = field(default_factory=dict)


class Portal:
    """All the state of one fake portal; callers hold the server's lock."""

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        index_delay_s: float = 0.0,
        first_id: int = 1001,
    ):
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.index_delay_s = index_delay_s
        self.schema = default_schema()
        self.records: dict[str, dict[str, Record]] = {kind: {} for kind in OBJECT_TYPE_IDS}
        self._pending: dict[str, dict[str, Record]] = {kind: {} for kind in OBJECT_TYPE_IDS}
        # (from_type, from_id, to_type) -> {to_id: [type ids]}, insertion-ordered
        self.links: dict[tuple[str, str, str], dict[str, list[int]]] = {}
        self.pipelines: dict[str, list[Pipeline]] = {"deals": []}
        self.lists: dict[str, StaticList] = {}
        self.subscriptions: dict[str, str] = {}  # subscription id -> name
        # e-mail (lower) -> subscription id -> SUBSCRIBED | NOT_SUBSCRIBED
        self.subscription_status: dict[str, dict[str, str]] = {}
        self.unsubscribed_all: set[str] = set()
        self.owners: dict[str, dict[str, Any]] = {}  # owner id -> the owners API's JSON
        # per object type, bumps on any change search may see (keys the search cache)
        self.versions = dict.fromkeys(OBJECT_TYPE_IDS, 0)
        # Refuse a whole batch (400) when any input is invalid, as HubSpot does for many
        # validation errors, instead of a 207 naming the refused inputs.
        self.strict_batches = False
        # Record ids are unique only within a portal: two portals given the same `first_id`
        # hand out the same ids, as two real portals can.
        self._ids = itertools.count(first_id)

    # --- schema --------------------------------------------------------------------------

    def property(self, object_type: str, name: str) -> PropertyDef | None:
        return self.schema[object_type].get(name)

    def kind_of(self, object_type: str) -> Callable[[str], str]:
        defs = self.schema[object_type]
        return lambda name: defs[name].type if name in defs else "string"

    def coerce(self, object_type: str) -> Callable[[str, str], Any]:
        kind = self.kind_of(object_type)

        def convert(name: str, value: str) -> Any:
            k = kind(name)
            try:
                if k == "number":
                    return float(value)
                if k in ("datetime", "date"):
                    return parse_time(value)
            except ValueError:
                return value
            if k == "bool":
                return value.lower() == "true"
            return value

        return convert

    def create_property(self, object_type: str, spec: Mapping[str, Any]) -> PropertyDef:
        name = str(spec.get("name", ""))
        if not name or name in self.schema[object_type]:
            raise InputError("OBJECT_ALREADY_EXISTS", f"property {name!r} already exists")
        options = tuple(str(o.get("value")) for o in spec.get("options") or [])
        prop = PropertyDef(
            name=name,
            type=str(spec.get("type", "string")),
            field_type=str(spec.get("fieldType", "text")),
            options=options,
            has_unique_value=bool(spec.get("hasUniqueValue", False)),
            label=str(spec.get("label", name)),
            group_name=str(spec.get("groupName", "information")),
            hubspot_defined=False,
        )
        self.schema[object_type][name] = prop
        return prop

    # --- records -------------------------------------------------------------------------

    def _clean(self, object_type: str, properties: Mapping[str, Any]) -> dict[str, str]:
        """Typed, normalised property values; unknown names refuse the request."""
        out: dict[str, str] = {}
        for name, value in properties.items():
            prop = self.property(object_type, name)
            if prop is None:
                raise SchemaError(f'Property "{name}" does not exist')
            if prop.read_only:
                continue
            if value is None or value == "":
                out[name] = ""
                continue
            text = str(value).lower() if isinstance(value, bool) else str(value)
            if prop.type in ("datetime", "date"):
                try:
                    text = format_time(parse_time(text))
                except ValueError:
                    raise InputError("VALIDATION_ERROR", f"{name} is not a date") from None
            elif prop.type == "number":
                try:
                    float(text)
                except ValueError:
                    raise InputError("VALIDATION_ERROR", f"{name} is not a number") from None
            elif prop.type == "enumeration" and prop.options and text not in prop.options:
                raise InputError("VALIDATION_ERROR", f"{text!r} is not an option of {name}")
            out[name] = text
        return out

    def _touch(self, record: Record, at: datetime) -> None:
        record.updated = at
        record.props[LAST_MODIFIED[record.type]] = format_time(at)
        record.index_due = at + timedelta(seconds=self.index_delay_s)
        self._pending[record.type][record.id] = record
        self.versions[record.type] += 1

    def check(
        self,
        object_type: str,
        properties: Mapping[str, Any],
        associations: Iterable[Mapping[str, Any]] = (),
    ) -> tuple[dict[str, str], list[tuple[str, str, int | None]]]:
        """Validate an input as a create would; raises InputError / SchemaError."""
        clean = self._clean(object_type, properties)
        if object_type == "tasks" and not clean.get("hs_timestamp"):
            raise InputError("VALIDATION_ERROR", "hs_timestamp is required")
        return clean, [self._resolve_link(object_type, a) for a in associations]

    def create(
        self,
        object_type: str,
        properties: Mapping[str, Any],
        associations: Iterable[Mapping[str, Any]] = (),
        *,
        at: datetime | None = None,
    ) -> Record:
        """Validate, then store a record and its inline associations (all or nothing)."""
        clean, links = self.check(object_type, properties, associations)
        now = at or self.clock()
        rid = str(next(self._ids))
        record = Record(rid, object_type, {**clean, "hs_object_id": rid}, now, now)
        record.props[CREATED[object_type]] = format_time(now)
        if object_type == "tasks":
            record.props.setdefault("hs_task_status", "NOT_STARTED")
        self.records[object_type][rid] = record
        for to_type, to_id, type_id in links:
            if type_id is not None:
                self.associate(object_type, rid, to_type, to_id, type_id)
        self._touch(record, now)
        return record

    def _resolve_link(self, from_type: str, spec: Mapping[str, Any]) -> tuple[str, str, int | None]:
        to_id = str((spec.get("to") or {}).get("id", ""))
        types = spec.get("types") or []
        if not types or "associationTypeId" not in types[0]:
            raise InputError(
                "VALIDATION_ERROR",
                "required fields not set: [associationCategory, associationTypeId]",
            )
        type_id = int(types[0]["associationTypeId"])
        pair = _VALID_TYPE_IDS.get(type_id)
        if pair is None or pair[0] != from_type:
            # A real portal creates the record and drops an association it cannot place.
            return "", to_id, None
        if to_id not in self.records[pair[1]]:
            raise InputError("INVALID_ASSOCIATION", f"{pair[1]} {to_id} does not exist")
        return pair[1], to_id, type_id

    def update(self, object_type: str, rid: str, properties: Mapping[str, Any]) -> Record:
        record = self.records[object_type].get(rid)
        if record is None:
            raise InputError("OBJECT_NOT_FOUND", f"{object_type} {rid} does not exist")
        record.props.update(self._clean(object_type, properties))
        self._touch(record, self.clock())
        return record

    def archive(self, object_type: str, rid: str) -> bool:
        record = self.records[object_type].pop(rid, None)
        self._pending[object_type].pop(rid, None)
        self.versions[object_type] += 1
        return record is not None

    def get(self, object_type: str, rid: str) -> Record | None:
        return self.records[object_type].get(rid)

    def set_system(self, record: Record, **values: str) -> None:
        """Seeding back door: set read-only values (e.g. a past modification time)."""
        record.props.update(values)
        if LAST_MODIFIED[record.type] in values:
            record.updated = parse_time(values[LAST_MODIFIED[record.type]])
        self.versions[record.type] += 1

    # --- associations --------------------------------------------------------------------

    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int
    ) -> None:
        inverse = ASSOCIATION_TYPES.get((to_type, from_type), 0)
        if type_id in PRIMARY_TYPES.values():
            inverse = PRIMARY_TYPES.get((to_type, from_type), inverse)
        for a_type, a_id, b_type, b_id, tid in (
            (from_type, from_id, to_type, to_id, type_id),
            (to_type, to_id, from_type, from_id, inverse),
        ):
            ids = self.links.setdefault((a_type, a_id, b_type), {}).setdefault(b_id, [])
            if tid not in ids:
                ids.append(tid)
        if (from_type, to_type) == ("contacts", "companies"):
            self.records["contacts"][from_id].props.setdefault("associatedcompanyid", to_id)

    def associated(self, from_type: str, from_id: str, to_type: str) -> dict[str, list[int]]:
        return self.links.get((from_type, from_id, to_type), {})

    def unsubscribe_all(self, email: str) -> None:
        """Opt an address out of all e-mail; its contacts get hs_email_optout, as in a portal."""
        address = email.lower()
        self.unsubscribed_all.add(address)
        for record in self.records["contacts"].values():
            if record.props.get("email", "").lower() == address:
                record.props["hs_email_optout"] = "true"
                self._touch(record, self.clock())

    # --- search index --------------------------------------------------------------------

    def index(self) -> None:
        """Move every change whose delay has passed into what search sees."""
        now = self.clock()
        for kind, pending in self._pending.items():
            ready = [r for r in pending.values() if r.index_due is None or r.index_due <= now]
            for record in ready:
                record.indexed = dict(record.props)
                del pending[record.id]
            if ready:
                self.versions[kind] += 1

    def searchable(self, object_type: str) -> Iterable[tuple[str, Mapping[str, str | None]]]:
        for record in self.records[object_type].values():
            if record.indexed is not None:
                yield record.id, record.indexed

    def index_at(self, record: Record, moment: datetime | None) -> None:
        """Seeding helper: search sees the record from `moment` on (None: now)."""
        if moment is None:
            record.indexed = dict(record.props)
            self._pending[record.type].pop(record.id, None)
        else:
            record.index_due = moment
            self._pending[record.type][record.id] = record
        self.versions[record.type] += 1

    def flush_index(self) -> None:
        """Make every change visible to search now (seeding helper)."""
        for kind, pending in self._pending.items():
            for record in pending.values():
                record.indexed = dict(record.props)
            pending.clear()
            self.versions[kind] += 1
