"""The local Salesforce's data: records, ids and the rules a real org applies on every write.

Writes go through `insert` / `update` / `upsert`, which validate against the schema (read-only
fields, restricted picklists, lengths, references, required fields, unique external ids) and
maintain what the platform maintains: SystemModstamp and the audit fields, derived fields
(IsClosed / IsWon / ForecastCategory from the stage, Task.IsClosed and AccountId), one primary
contact role per opportunity, OpportunityHistory rows, and one membership per campaign and person.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from syncd_salesforce.fake_schema import DEFAULT_STAGES, FieldDef, ObjectDef, Stage
from syncd_salesforce.soql import parse_datetime

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_HISTORY_TRACKED = ("StageName", "Amount", "CloseDate", "Probability")


class RecordError(Exception):
    """A per-record refusal, reported as {statusCode, message, fields} like the real API."""

    def __init__(self, code: str, message: str, fields: tuple[str, ...] = ()):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields

    def as_error(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}


def full_id(id15: str) -> str:
    """The 18-character, case-insensitive-safe form of a 15-character record id."""
    suffix = ""
    for chunk in range(3):
        flags = 0
        for bit, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                flags |= 1 << bit
        suffix += _CHECKSUM[flags]
    return id15 + suffix


def looks_like_id(value: str) -> bool:
    return len(value) in (15, 18) and value.isalnum()


@dataclass(frozen=True)
class Lock:
    """The next `times` writes to `sobject` (any when None) fail with UNABLE_TO_LOCK_ROW."""

    sobject: str | None
    times: int


class Org:
    """One org's records. Every public method takes the org lock: handlers run on many threads."""

    def __init__(
        self,
        schema: dict[str, ObjectDef],
        *,
        stages: tuple[Stage, ...] = DEFAULT_STAGES,
        clock: Callable[[], datetime] | None = None,
    ):
        self.schema = schema
        self.stages = {s.name: s for s in stages}
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in schema}
        self.version = 0  # counts writes (queries cache their Id and lookup indexes by it)
        self.lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._serial = 0
        self._by_prefix = {o.key_prefix: o.name for o in schema.values()}
        self._unique: dict[tuple[str, str], dict[str, str]] = {}
        self._members: set[tuple[str, str]] = set()
        self._primary_roles: dict[str, dict[str, Any]] = {}  # opportunity id -> primary role
        self._locks: list[Lock] = []
        self.admin_id = ""
        self.admin_id = self.setup_insert(
            "User", {"Name": "Integration User", "TimeZoneSidKey": "UTC"}
        )

    # --- time and ids ----------------------------------------------------------------------

    def now(self) -> datetime:
        """The platform clock, at the millisecond precision SystemModstamp has."""
        moment = self._clock()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    @contextmanager
    def clock_at(self, moment: datetime) -> Iterator[None]:
        """Seeding aid: writes inside the block are stamped `moment` (a backdated org).

        The clock is swapped, not the lock held: the writes arrive on server threads.
        """
        with self.lock:
            previous = self._clock
            self._clock = lambda: moment
        try:
            yield
        finally:
            with self.lock:
                self._clock = previous

    def new_id(self, sobject: str) -> str:
        self._serial += 1
        serial, digits = self._serial, ""
        while serial:
            serial, rem = divmod(serial, 62)
            digits = _B62[rem] + digits
        return full_id(self.schema[sobject].key_prefix + "8d" + digits.rjust(10, "0"))

    def sobject_of(self, record_id: str) -> str | None:
        return self._by_prefix.get(record_id[:3])

    def find(self, record_id: str | None) -> dict[str, Any] | None:
        """Any live record by id (a relationship hop); 15-character ids are accepted."""
        if not record_id:
            return None
        sobject = self._by_prefix.get(record_id[:3])
        if sobject is None:
            return None
        rid = full_id(record_id) if len(record_id) == 15 else record_id
        record = self.records[sobject].get(rid)
        return None if record is None or record["IsDeleted"] else record

    def by_external_id(self, sobject: str, field: str, value: str) -> str | None:
        return self._unique.get((sobject, field), {}).get(value)

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a rolled-back transaction must restore (allOrNone collections)."""
        with self.lock:
            records = {k: {i: dict(r) for i, r in v.items()} for k, v in self.records.items()}
            unique = {k: dict(v) for k, v in self._unique.items()}
            primaries = {
                k: records["OpportunityContactRole"][v["Id"]]
                for k, v in self._primary_roles.items()
            }
            return records, unique, set(self._members), self._serial, primaries

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        with self.lock:
            self.version += 1  # a write: indexes built on the records go stale
            (self.records, self._unique, self._members, self._serial, self._primary_roles) = (
                snapshot
            )

    # --- switches ----------------------------------------------------------------------------

    def lock_rows(self, times: int, sobject: str | None = None) -> None:
        """The next `times` record writes (to `sobject`) fail with UNABLE_TO_LOCK_ROW."""
        with self.lock:
            self._locks.append(Lock(sobject, times))

    def _check_lock(self, sobject: str, record_id: str | None) -> None:
        for i, lock in enumerate(self._locks):
            if lock.sobject in (None, sobject):
                if lock.times <= 1:
                    del self._locks[i]
                else:
                    self._locks[i] = Lock(lock.sobject, lock.times - 1)
                raise RecordError(
                    "UNABLE_TO_LOCK_ROW",
                    "unable to obtain exclusive access to this record or 1 records: "
                    f"{record_id or ''}".rstrip(),
                )

    # --- writes --------------------------------------------------------------------------------

    def insert(self, sobject: str, values: dict[str, Any], *, user_id: str | None = None) -> str:
        with self.lock:
            self.version += 1  # a write: indexes built on the records go stale
            obj = self._createable(sobject)
            self._check_lock(sobject, None)
            clean = self._coerce(obj, values, creating=True)
            record = dict(obj.blank)
            if "OwnerId" in record:
                record["OwnerId"] = user_id or self.admin_id
            record.update(clean)
            missing = [n for n, f in obj.fields.items() if f.required and record[n] is None]
            if missing:
                raise RecordError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    tuple(missing),
                )
            record["Id"] = self.new_id(sobject)
            self._derive(sobject, record, None)
            self._claim_unique(obj, record)
            self._stamp(record, user_id, created=True)
            self.records[sobject][record["Id"]] = record
            self._after_write(sobject, record, None)
            return str(record["Id"])

    def update(
        self, sobject: str, record_id: str, values: dict[str, Any], *, user_id: str | None = None
    ) -> None:
        with self.lock:
            self.version += 1  # a write: indexes built on the records go stale
            obj = self._createable(sobject)
            record = self._existing(sobject, record_id)
            self._check_lock(sobject, record["Id"])
            clean = self._coerce(obj, values, creating=False)
            before = dict(record)
            merged = {**record, **clean}
            self._derive(sobject, merged, before)
            self._release_unique(obj, record)
            try:
                self._claim_unique(obj, merged)
            except RecordError:
                self._claim_unique(obj, record)
                raise
            record.update(merged)
            self._stamp(record, user_id, created=False)
            self._after_write(sobject, record, before)

    def upsert(
        self,
        sobject: str,
        field: str,
        value: str,
        values: dict[str, Any],
        *,
        user_id: str | None = None,
    ) -> tuple[str, bool]:
        """Create or update by external id; returns (id, created)."""
        with self.lock:
            self.version += 1  # a write: indexes built on the records go stale
            fdef = self.schema[sobject].field(field)
            if fdef is None or not (fdef.external_id or fdef.name == "Id"):
                raise RecordError(
                    "NOT_FOUND",
                    f"Provided external ID field does not exist or is not accessible: {field}",
                )
            existing = self.by_external_id(sobject, fdef.name, value)
            if existing is None:
                return self.insert(sobject, {**values, fdef.name: value}, user_id=user_id), True
            self.update(sobject, existing, values, user_id=user_id)
            return existing, False

    def delete(self, sobject: str, record_id: str) -> None:
        with self.lock:
            self.version += 1  # a write: indexes built on the records go stale
            record = self._existing(sobject, record_id)
            record["IsDeleted"] = True
            self._release_unique(self.schema[sobject], record)
            if sobject == "CampaignMember":
                self._members.discard(
                    (record["CampaignId"], record["ContactId"] or record["LeadId"])
                )
            self._stamp(record, None, created=False)

    def setup_insert(self, sobject: str, values: dict[str, Any]) -> str:
        """Seeding of setup objects the API cannot create (users, statuses, stages)."""
        with self.lock:
            self.version += 1  # a write: indexes built on the records go stale
            obj = self.schema[sobject]
            record: dict[str, Any] = {name: None for name in obj.fields}
            record.update({k: False for k, f in obj.fields.items() if f.type == "boolean"})
            record.update(values)
            record["Id"] = self.new_id(sobject)
            self._stamp(record, None, created=True)
            self.records[sobject][record["Id"]] = record
            return str(record["Id"])

    # --- write helpers ---------------------------------------------------------------------------

    def _createable(self, sobject: str) -> ObjectDef:
        obj = self.schema.get(sobject)
        if obj is None:
            raise RecordError("NOT_FOUND", f"The requested resource does not exist: {sobject}")
        if not obj.createable:
            raise RecordError("INVALID_TYPE", f"entity type {sobject} does not support this call")
        return obj

    def _existing(self, sobject: str, record_id: str) -> dict[str, Any]:
        if not looks_like_id(record_id):
            raise RecordError(
                "MALFORMED_ID", f"{sobject} ID: id value of incorrect type: {record_id}", ("Id",)
            )
        rid = full_id(record_id) if len(record_id) == 15 else record_id
        record = self.records[sobject].get(rid)
        if record is None or self.sobject_of(rid) != sobject:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if record["IsDeleted"]:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
        return record

    def _coerce(self, obj: ObjectDef, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        refused: list[str] = []
        for key, raw in values.items():
            if key == "attributes":
                continue
            fdef = obj.field(key)
            if fdef is None:
                raise RecordError(
                    "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
            if not (fdef.createable if creating else fdef.updateable):
                refused.append(fdef.name)
                continue
            clean[fdef.name] = self._value(obj, fdef, raw)
        if refused:
            raise RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(refused)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.",
                tuple(refused),
            )
        return clean

    def _value(self, obj: ObjectDef, fdef: FieldDef, raw: Any) -> Any:
        name = fdef.name
        if raw is None or raw == "":
            if not fdef.nillable and fdef.type != "boolean":
                raise RecordError(
                    "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", (name,)
                )
            return False if fdef.type == "boolean" else None
        try:
            if fdef.type == "boolean":
                if not isinstance(raw, bool):
                    raise ValueError(raw)
                return raw
            if fdef.type in ("currency", "double", "percent"):
                return float(raw)
            if fdef.type == "int":
                return int(raw)
            if fdef.type == "date":
                return date.fromisoformat(str(raw)[:10])
            if fdef.type == "datetime":
                return parse_datetime(str(raw))
        except (TypeError, ValueError):
            raise RecordError(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{name}: value not of required type: {raw}",
                (name,),
            ) from None
        text = str(raw)
        if fdef.type == "reference":
            return self._reference(fdef, text)
        if fdef.type == "picklist" and fdef.restricted and text not in fdef.picklist:
            raise RecordError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{name}: bad value for restricted picklist field: {text}",
                (name,),
            )
        if fdef.length and len(text) > fdef.length:
            raise RecordError(
                "STRING_TOO_LONG",
                f"{name}: data value too large: {text[:20]}... (max length={fdef.length})",
                (name,),
            )
        return text

    def _reference(self, fdef: FieldDef, text: str) -> str:
        label = fdef.name.removesuffix("Id") + " ID"
        if not looks_like_id(text):
            raise RecordError(
                "MALFORMED_ID", f"{label}: id value of incorrect type: {text}", (fdef.name,)
            )
        rid = full_id(text) if len(text) == 15 else text
        target = self.sobject_of(rid)
        if target not in fdef.reference_to:
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"{label}: id value of incorrect type: {rid}",
                (fdef.name,),
            )
        record = self.records[target].get(rid)
        if record is None:
            raise RecordError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", (fdef.name,)
            )
        if record["IsDeleted"]:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", (fdef.name,))
        return rid

    def _claim_unique(self, obj: ObjectDef, record: dict[str, Any]) -> None:
        for name in obj.unique:
            value = record.get(name)
            holder = self._unique.get((obj.name, name), {}).get(value) if value else None
            if holder is not None and holder != record["Id"]:
                raise RecordError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {name} duplicates value on record with id: {holder}",
                    (name,),
                )
        for name in obj.unique:
            if record.get(name) is not None:
                self._unique.setdefault((obj.name, name), {})[record[name]] = record["Id"]

    def _release_unique(self, obj: ObjectDef, record: dict[str, Any]) -> None:
        for name in obj.unique:
            if record.get(name) is not None:
                self._unique.get((obj.name, name), {}).pop(record[name], None)

    def _stamp(self, record: dict[str, Any], user_id: str | None, *, created: bool) -> None:
        now = self.now()
        user_id = user_id or self.admin_id or record.get("Id")
        if created:
            record["CreatedDate"] = now
            record["CreatedById"] = user_id
            record["IsDeleted"] = False
        record["LastModifiedDate"] = now
        record["LastModifiedById"] = user_id
        record["SystemModstamp"] = now

    def _derive(self, sobject: str, record: dict[str, Any], before: dict[str, Any] | None) -> None:
        if sobject in ("Contact", "Lead"):
            record["Name"] = " ".join(p for p in (record["FirstName"], record["LastName"]) if p)
        elif sobject == "Opportunity":
            stage = self.stages[record["StageName"]]
            record["IsClosed"], record["IsWon"] = stage.closed, stage.won
            record["ForecastCategory"] = stage.forecast
            if before is None:
                if record["Probability"] is None:
                    record["Probability"] = float(stage.probability)
            elif before["StageName"] != record["StageName"]:
                record["Probability"] = float(stage.probability)
        elif sobject == "Task":
            self._derive_task(record)
        elif sobject == "CampaignMember":
            self._derive_member(record, before)

    def _derive_task(self, record: dict[str, Any]) -> None:
        record["IsClosed"] = record["Status"] == "Completed"
        who = self.find(record["WhoId"])
        what = self.find(record["WhatId"])
        if who is not None and self.sobject_of(who["Id"]) == "Lead" and what is not None:
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Related To ID: You can't associate a lead with a related record.",
                ("WhatId",),
            )
        account = None
        if what is not None:
            kind = self.sobject_of(what["Id"])
            account = what["Id"] if kind == "Account" else what.get("AccountId")
        if account is None and who is not None and self.sobject_of(who["Id"]) == "Contact":
            account = who["AccountId"]
        record["AccountId"] = account

    def _derive_member(self, record: dict[str, Any], before: dict[str, Any] | None) -> None:
        person = record["ContactId"] or record["LeadId"]
        if person is None:
            raise RecordError(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [ContactId, LeadId]",
                ("ContactId", "LeadId"),
            )
        statuses = [
            s
            for s in self.records["CampaignMemberStatus"].values()
            if s["CampaignId"] == record["CampaignId"]
        ]
        if record["Status"] is None:
            default = next((s for s in statuses if s["IsDefault"]), None)
            record["Status"] = default["Label"] if default else "Sent"
        match = next((s for s in statuses if s["Label"] == record["Status"]), None)
        if statuses and match is None:
            raise RecordError(
                "INVALID_STATUS",
                f"Status: bad value for campaign member status: {record['Status']}",
                ("Status",),
            )
        record["HasResponded"] = bool(match and match["HasResponded"])
        if before is None and (record["CampaignId"], person) in self._members:
            raise RecordError("DUPLICATE_VALUE", "Already a campaign member.")

    def _after_write(
        self, sobject: str, record: dict[str, Any], before: dict[str, Any] | None
    ) -> None:
        if sobject == "Opportunity":
            if before is None or any(before[f] != record[f] for f in _HISTORY_TRACKED):
                history = {f: record[f] for f in _HISTORY_TRACKED}
                history["ForecastCategory"] = record["ForecastCategory"]
                history["OpportunityId"] = record["Id"]
                self.setup_insert("OpportunityHistory", history)
        elif sobject == "OpportunityContactRole" and record["IsPrimary"]:
            previous = self._primary_roles.get(record["OpportunityId"])
            if previous is not None and previous is not record:
                previous["IsPrimary"] = False  # one primary contact role per opportunity
            self._primary_roles[record["OpportunityId"]] = record
        elif sobject == "CampaignMember" and before is None:
            self._members.add((record["CampaignId"], record["ContactId"] or record["LeadId"]))
