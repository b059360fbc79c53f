"""The fake portal's CRM endpoints: objects, batch, search, associations, schema, lists and
communication preferences, answering with the status codes and bodies the real API uses.

Each handler takes the `Portal` and the request and returns a `Response`; `fake.py` wires them
to paths under the server's lock. Status codes matter to hubspot-api-client: it deserializes
only the codes its spec lists, so a create answered 200 instead of 201 would come back None.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from syncd.testing.httpfake import Request, Response
from syncd_hubspot.fake_search import SearchError, evaluate, format_time, parse_query
from syncd_hubspot.fake_store import (
    ASSOCIATION_TYPES,
    InputError,
    Portal,
    SchemaError,
    canonical_type,
)

BATCH_LIMIT = 100
ASSOCIATION_BATCH_LIMIT = 1000
SEARCH_CAP = 10_000


def error(status: int, category: str, message: str, **extra: Any) -> Response:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return Response(status, body)


def object_type(name: str) -> str:
    kind = canonical_type(name)
    if kind is None:
        raise LookupError(name)
    return kind


def stamp() -> str:
    return format_time(datetime.now(UTC))


def batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], ok: int
) -> Response:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": stamp(),
        "completedAt": stamp(),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return Response(207, body)
    return Response(ok, body)


def _input_error(exc: InputError, **context: list[str]) -> dict[str, Any]:
    return {
        "status": "error",
        "category": exc.category,
        "message": str(exc),
        "context": context,
        "errors": [],
    }


def _properties_arg(req: Request) -> list[str] | None:
    raw = req.query.get("properties")
    return [p for value in raw for p in value.split(",") if p] if raw else None


# --- objects -------------------------------------------------------------------------------


def create_one(portal: Portal, req: Request, obj: str) -> Response:
    kind = object_type(obj)
    body = req.json() or {}
    try:
        record = portal.create(kind, body.get("properties") or {}, body.get("associations") or [])
    except (InputError, SchemaError) as exc:
        return error(400, getattr(exc, "category", "VALIDATION_ERROR"), str(exc))
    return Response(201, record.as_json())


def get_one(portal: Portal, req: Request, obj: str, rid: str) -> Response:
    kind = object_type(obj)
    record = portal.get(kind, rid)
    if record is None:
        return error(404, "OBJECT_NOT_FOUND", "resource not found")
    out = record.as_json(_properties_arg(req))
    wanted = [t for v in req.query.get("associations", []) for t in v.split(",") if t]
    if wanted:
        out["associations"] = {}
        for name in wanted:
            to_type = canonical_type(name)
            if to_type is None:
                continue
            linked = portal.associated(kind, rid, to_type)
            out["associations"][to_type] = {
                "results": [
                    {"id": to_id, "type": f"{kind[:-1]}_to_{to_type[:-1]}"} for to_id in linked
                ]
            }
    return Response(200, out)


def list_page(portal: Portal, req: Request, obj: str) -> Response:
    kind = object_type(obj)
    limit = int(req.arg("limit", "10") or 10)
    after = int(req.arg("after", "0") or 0)
    ids = sorted(portal.records[kind], key=int)
    chunk = ids[after : after + limit]
    body: dict[str, Any] = {
        "results": [portal.records[kind][i].as_json(_properties_arg(req)) for i in chunk]
    }
    if after + limit < len(ids):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return Response(200, body)


def update_one(portal: Portal, req: Request, obj: str, rid: str) -> Response:
    kind = object_type(obj)
    try:
        record = portal.update(kind, rid, (req.json() or {}).get("properties") or {})
    except SchemaError as exc:
        return error(400, "VALIDATION_ERROR", str(exc))
    except InputError as exc:
        status = 404 if exc.category == "OBJECT_NOT_FOUND" else 400
        return error(status, exc.category, str(exc))
    return Response(200, record.as_json())


def archive_one(portal: Portal, req: Request, obj: str, rid: str) -> Response:
    portal.archive(object_type(obj), rid)
    return Response(204)


# --- batch ---------------------------------------------------------------------------------


def too_many(inputs: list[Any], limit: int) -> Response | None:
    if len(inputs) > limit:
        return error(400, "VALIDATION_ERROR", f"batch size {len(inputs)} exceeds limit {limit}")
    return None


def batch_read(portal: Portal, req: Request, obj: str) -> Response:
    kind = object_type(obj)
    body = req.json() or {}
    inputs = body.get("inputs") or []
    if (refused := too_many(inputs, BATCH_LIMIT)) is not None:
        return refused
    names = body.get("properties") or None
    results, missing = [], []
    for item in inputs:
        record = portal.get(kind, str(item.get("id")))
        if record is None:
            missing.append(str(item.get("id")))
        else:
            results.append(record.as_json(names))
    errors = []
    if missing:
        errors.append(
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {kind.upper()} objects, they may be deleted or "
                "not exist. Check that ids are valid.",
                "context": {"ids": missing},
                "errors": [],
            }
        )
    return batch_response(results, errors, 200)


def batch_create(portal: Portal, req: Request, obj: str) -> Response:
    """201 when all inputs are created, 207 when some are refused, 400 when none is."""
    kind = object_type(obj)
    inputs = (req.json() or {}).get("inputs") or []
    if (refused := too_many(inputs, BATCH_LIMIT)) is not None:
        return refused
    for item in inputs:  # an unknown property refuses the whole request, before any write
        unknown = [n for n in item.get("properties") or {} if portal.property(kind, n) is None]
        if unknown:
            return error(400, "VALIDATION_ERROR", f'Property "{unknown[0]}" does not exist')
    if portal.strict_batches:
        for item in inputs:
            try:
                portal.check(kind, item.get("properties") or {}, item.get("associations") or [])
            except InputError as exc:
                return error(400, exc.category, str(exc))
    results, errors = [], []
    for item in inputs:
        trace = item.get("objectWriteTraceId")
        try:
            record = portal.create(
                kind, item.get("properties") or {}, item.get("associations") or []
            )
        except InputError as exc:
            errors.append(_input_error(exc, **({"objectWriteTraceId": [trace]} if trace else {})))
            continue
        out = record.as_json()
        if trace is not None:
            out["objectWriteTraceId"] = trace
        results.append(out)
    if errors and not results:
        first = errors[0]
        return error(400, first["category"], first["message"], context=first["context"])
    return batch_response(results, errors, 201)


def batch_update(portal: Portal, req: Request, obj: str) -> Response:
    kind = object_type(obj)
    inputs = (req.json() or {}).get("inputs") or []
    if (refused := too_many(inputs, BATCH_LIMIT)) is not None:
        return refused
    results, errors = [], []
    for item in inputs:
        rid = str(item.get("id"))
        try:
            results.append(portal.update(kind, rid, item.get("properties") or {}).as_json())
        except SchemaError as exc:
            return error(400, "VALIDATION_ERROR", str(exc))
        except InputError as exc:
            errors.append(_input_error(exc, ids=[rid]))
    return batch_response(results, errors, 200)


def batch_archive(portal: Portal, req: Request, obj: str) -> Response:
    kind = object_type(obj)
    for item in (req.json() or {}).get("inputs") or []:
        portal.archive(kind, str(item.get("id")))
    return Response(204)


# --- search --------------------------------------------------------------------------------


class SearchCache:
    """Remembers the last query's ordered ids so paging does not re-run it."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._ids: list[str] = []

    def ids(self, key: tuple[Any, ...], compute: Any) -> list[str]:
        if key != self._key:
            self._ids = compute()
            self._key = key
        return self._ids


def search(portal: Portal, req: Request, obj: str, cache: SearchCache, cap: int) -> Response:
    kind = object_type(obj)
    body = req.json() or {}
    try:
        query = parse_query(body, len(req.body), lambda n: portal.property(kind, n) is not None)
    except SearchError as exc:
        return error(400, "VALIDATION_ERROR", str(exc))
    if query.after >= cap:
        return error(
            400,
            "VALIDATION_ERROR",
            f"paging is limited to {cap} results; narrow the query",
        )
    portal.index()
    shape = json.dumps(
        {k: v for k, v in body.items() if k not in ("after", "limit")}, sort_keys=True
    )
    ids = cache.ids(
        (kind, shape, portal.versions[kind]),
        lambda: evaluate(query, portal.searchable(kind), portal.kind_of(kind), portal.coerce(kind)),
    )
    chunk = ids[query.after : query.after + query.limit]
    names = query.properties or None
    results = []
    for rid in chunk:
        record = portal.records[kind][rid]
        shown = record.as_json(names)
        assert record.indexed is not None
        shown["properties"] = {n: record.indexed.get(n) for n in shown["properties"]}
        results.append(shown)
    out: dict[str, Any] = {"total": len(ids), "results": results}
    if query.after + query.limit < len(ids):
        out["paging"] = {"next": {"after": str(query.after + query.limit)}}
    return Response(200, out)


# --- associations --------------------------------------------------------------------------


def associations_batch_read(portal: Portal, req: Request, frm: str, to: str) -> Response:
    from_type, to_type = object_type(frm), object_type(to)
    inputs = (req.json() or {}).get("inputs") or []
    if (refused := too_many(inputs, ASSOCIATION_BATCH_LIMIT)) is not None:
        return refused
    results, errors = [], []
    for item in inputs:
        rid = str(item.get("id"))
        linked = portal.associated(from_type, rid, to_type)
        if not linked:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {to_type} is associated with {from_type[:-1]} {rid}.",
                    "context": {"fromObjectId": [rid]},
                    "errors": [],
                }
            )
            continue
        results.append(
            {
                "from": {"id": rid},
                "to": [
                    {
                        "toObjectId": int(to_id),
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": t, "label": None}
                            for t in type_ids
                        ],
                    }
                    for to_id, type_ids in linked.items()
                ],
            }
        )
    return batch_response(results, errors, 200)


def associate_default(
    portal: Portal, req: Request, frm: str, fid: str, to: str, tid: str
) -> Response:
    from_type, to_type = object_type(frm), object_type(to)
    if portal.get(from_type, fid) is None or portal.get(to_type, tid) is None:
        return error(404, "OBJECT_NOT_FOUND", "resource not found")
    portal.associate(from_type, fid, to_type, tid, ASSOCIATION_TYPES[(from_type, to_type)])
    return Response(
        200,
        {
            "status": "COMPLETE",
            "results": [
                {
                    "from": {"id": fid},
                    "to": {"id": tid},
                    "associationSpec": {
                        "associationCategory": "HUBSPOT_DEFINED",
                        "associationTypeId": ASSOCIATION_TYPES[(from_type, to_type)],
                    },
                }
            ],
            "startedAt": stamp(),
            "completedAt": stamp(),
        },
    )
