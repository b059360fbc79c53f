"""sObject Collections for the local Salesforce: up to 200 records a call, one result each.

Results come back in request order; with `allOrNone` a single failure rolls every other
record back, which then reports ALL_OR_NONE_OPERATION_ROLLED_BACK, as the real API does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncd.testing.httpfake import Response
from syncd_salesforce.fake_org import Org, RecordError, full_id

LIMIT = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "fields": [],
    "message": "Record rolled back because not all records were valid and the request was "
    "using AllOrNone header",
}
Record = dict[str, Any]


def error(status: int, code: str, message: str) -> Response:
    return Response(status, [{"message": message, "errorCode": code}])


class Collections:
    def __init__(self, org: Org):
        self.org = org

    def create(self, body: Any, user: str) -> Response:
        def one(record: Record) -> Record:
            if record.get("Id"):
                raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ("Id",))
            rid = self.org.insert(_type_of(record), record, user_id=user)
            return {"id": rid, "success": True, "errors": []}

        return self._apply(body, one)

    def update(self, body: Any, user: str) -> Response:
        def one(record: Record) -> Record:
            values = dict(record)
            rid = str(values.pop("Id", "") or "")
            if not rid:
                raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", ("Id",))
            self.org.update(_type_of(record), rid, values, user_id=user)
            return {"id": full_id(rid) if len(rid) == 15 else rid, "success": True, "errors": []}

        return self._apply(body, one)

    def upsert(self, body: Any, user: str, sobject: str, field: str) -> Response:
        obj = self.org.schema.get(sobject)
        fdef = obj.field(field) if obj else None

        def one(record: Record) -> Record:
            if _type_of(record) != sobject:
                raise RecordError("INVALID_TYPE", f"records must all be of type {sobject}")
            values = dict(record)
            key = values.pop(fdef.name if fdef else field, None)
            if key in (None, ""):
                raise RecordError("MISSING_ARGUMENT", f"{field} not specified", (field,))
            rid, created = self.org.upsert(sobject, field, str(key), values, user_id=user)
            return {"id": rid, "success": True, "errors": [], "created": created}

        return self._apply(body, one)

    def _apply(self, body: Any, one: Callable[[Record], Record]) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return error(400, "JSON_PARSER_ERROR", "records is required")
        records: list[Record] = body["records"]
        if len(records) > LIMIT:
            return error(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        all_or_none = bool(body.get("allOrNone", False))
        with self.org.lock:
            snapshot = self.org.snapshot() if all_or_none else None
            results: list[Record] = []
            for record in records:
                try:
                    results.append(one(record))
                except RecordError as exc:
                    results.append(
                        {"id": record.get("Id"), "success": False, "errors": [exc.as_error()]}
                    )
            if snapshot is not None and not all(r["success"] for r in results):
                self.org.restore(snapshot)
                results = [
                    r
                    if not r["success"]
                    else {"id": None, "success": False, "errors": [ROLLED_BACK]}
                    for r in results
                ]
        return Response(200, results)


def _type_of(record: Record) -> str:
    sobject = (record.get("attributes") or {}).get("type")
    if not sobject:
        raise RecordError("INVALID_TYPE", "Must specify a type in attributes")
    return str(sobject)
