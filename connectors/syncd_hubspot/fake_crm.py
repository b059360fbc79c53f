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
    OBJECT_TYPE_IDS,
    InputError,
    Portal,
    SchemaError,
    StaticList,
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


def _object_type(name: str) -> str:
    kind = canonical_type(name)
    if kind is None:
        raise LookupError(name)
    return kind


def _stamp() -> str:
    return format_time(datetime.now(UTC))


def _batch(results: list[dict[str, Any]], errors: list[dict[str, Any]], ok: int) -> Response:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": _stamp(),
        "completedAt": _stamp(),
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
    kind = _object_type(obj)
    body = req.json() or {}
    try:
        record = portal.create(kind, body.get("properties") or {}, body.get("associations") or [])
    except (InputError, SchemaError) as exc:
        return error(400, getattr(exc, "category", "VALIDATION_ERROR"), str(exc))
    return Response(201, record.as_json())


def get_one(portal: Portal, req: Request, obj: str, rid: str) -> Response:
    kind = _object_type(obj)
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
    kind = _object_type(obj)
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
    kind = _object_type(obj)
    try:
        record = portal.update(kind, rid, (req.json() or {}).get("properties") or {})
    except SchemaError as exc:
        return error(400, "VALIDATION_ERROR", str(exc))
    except InputError as exc:
        status = 404 if exc.category == "OBJECT_NOT_FOUND" else 400
        return error(status, exc.category, str(exc))
    return Response(200, record.as_json())


def archive_one(portal: Portal, req: Request, obj: str, rid: str) -> Response:
    portal.archive(_object_type(obj), rid)
    return Response(204)


# --- batch ---------------------------------------------------------------------------------


def _too_many(inputs: list[Any], limit: int) -> Response | None:
    if len(inputs) > limit:
        return error(400, "VALIDATION_ERROR", f"batch size {len(inputs)} exceeds limit {limit}")
    return None


def batch_read(portal: Portal, req: Request, obj: str) -> Response:
    kind = _object_type(obj)
    body = req.json() or {}
    inputs = body.get("inputs") or []
    if (refused := _too_many(inputs, BATCH_LIMIT)) is not None:
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
    return _batch(results, errors, 200)


def batch_create(portal: Portal, req: Request, obj: str) -> Response:
    """201 when all inputs are created, 207 when some are refused, 400 when none is."""
    kind = _object_type(obj)
    inputs = (req.json() or {}).get("inputs") or []
    if (refused := _too_many(inputs, BATCH_LIMIT)) is not None:
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
    return _batch(results, errors, 201)


def batch_update(portal: Portal, req: Request, obj: str) -> Response:
    kind = _object_type(obj)
    inputs = (req.json() or {}).get("inputs") or []
    if (refused := _too_many(inputs, BATCH_LIMIT)) is not None:
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
    return _batch(results, errors, 200)


def batch_archive(portal: Portal, req: Request, obj: str) -> Response:
    kind = _object_type(obj)
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
    kind = _object_type(obj)
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
    from_type, to_type = _object_type(frm), _object_type(to)
    inputs = (req.json() or {}).get("inputs") or []
    if (refused := _too_many(inputs, ASSOCIATION_BATCH_LIMIT)) is not None:
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
    return _batch(results, errors, 200)


def associate_default(
    portal: Portal, req: Request, frm: str, fid: str, to: str, tid: str
) -> Response:
    from_type, to_type = _object_type(frm), _object_type(to)
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
            "startedAt": _stamp(),
            "completedAt": _stamp(),
        },
    )


# --- schema: properties and pipelines -----------------------------------------------------


def properties_all(portal: Portal, req: Request, obj: str) -> Response:
    kind = _object_type(obj)
    now = _stamp()
    return Response(200, {"results": [p.as_json(kind, now) for p in portal.schema[kind].values()]})


def property_one(portal: Portal, req: Request, obj: str, name: str) -> Response:
    kind = _object_type(obj)
    prop = portal.property(kind, name)
    if prop is None:
        return error(404, "OBJECT_NOT_FOUND", f"property {name} does not exist")
    return Response(200, prop.as_json(kind, _stamp()))


def property_create(portal: Portal, req: Request, obj: str) -> Response:
    kind = _object_type(obj)
    try:
        prop = portal.create_property(kind, req.json() or {})
    except InputError as exc:
        return error(409, exc.category, str(exc))
    return Response(201, prop.as_json(kind, _stamp()))


def _pipeline_json(pipeline: Any) -> dict[str, Any]:
    now = _stamp()
    return {
        "id": pipeline.id,
        "label": pipeline.label,
        "displayOrder": pipeline.display_order,
        "createdAt": now,
        "updatedAt": now,
        "archived": False,
        "stages": [
            {
                "id": stage["id"],
                "label": stage["label"],
                "displayOrder": i,
                "metadata": {
                    "isClosed": "true" if stage["closed"] else "false",
                    "probability": str(float(stage["probability"])),
                },
                "createdAt": now,
                "updatedAt": now,
                "archived": False,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for i, stage in enumerate(pipeline.stages)
        ],
    }


def pipelines_all(portal: Portal, req: Request, obj: str) -> Response:
    kind = _object_type(obj)
    return Response(200, {"results": [_pipeline_json(p) for p in portal.pipelines.get(kind, [])]})


def pipeline_one(portal: Portal, req: Request, obj: str, pid: str) -> Response:
    kind = _object_type(obj)
    for pipeline in portal.pipelines.get(kind, []):
        if pipeline.id == pid:
            return Response(200, _pipeline_json(pipeline))
    return error(404, "OBJECT_NOT_FOUND", "pipeline not found")


# --- lists ---------------------------------------------------------------------------------


def _list_json(item: StaticList) -> dict[str, Any]:
    now = _stamp()
    return {
        "listId": item.id,
        "name": item.name,
        "objectTypeId": item.object_type_id,
        "processingType": item.processing_type,
        "processingStatus": "COMPLETE",
        "listVersion": 1,
        "size": len(item.members),
        "createdAt": now,
        "updatedAt": now,
        "filtersUpdatedAt": now,
    }


def list_create(portal: Portal, req: Request) -> Response:
    body = req.json() or {}
    list_id = str(len(portal.lists) + 1)
    item = StaticList(
        list_id,
        str(body.get("name", "")),
        str(body.get("objectTypeId", OBJECT_TYPE_IDS["contacts"])),
        str(body.get("processingType", "MANUAL")),
    )
    portal.lists[list_id] = item
    return Response(200, {"list": _list_json(item)})


def list_one(portal: Portal, req: Request, lid: str) -> Response:
    item = portal.lists.get(lid)
    if item is None:
        return error(404, "OBJECT_NOT_FOUND", f"list {lid} does not exist")
    return Response(200, {"list": _list_json(item)})


def list_add(portal: Portal, req: Request, lid: str) -> Response:
    item = portal.lists.get(lid)
    if item is None:
        return error(404, "OBJECT_NOT_FOUND", f"list {lid} does not exist")
    if item.processing_type != "MANUAL":
        return error(400, "VALIDATION_ERROR", "only MANUAL (static) lists take members directly")
    kind = canonical_type(item.object_type_id) or "contacts"
    added, missing = [], []
    for rid in [str(r) for r in req.json() or []]:
        if portal.get(kind, rid) is None:
            missing.append(rid)
        elif rid not in item.members:
            item.members[rid] = portal.clock()
            added.append(rid)
    return Response(200, {"recordsIdsAdded": added, "recordIdsMissing": missing})


def list_members(portal: Portal, req: Request, lid: str) -> Response:
    item = portal.lists.get(lid)
    if item is None:
        return error(404, "OBJECT_NOT_FOUND", f"list {lid} does not exist")
    return Response(
        200,
        {
            "results": [
                {"recordId": rid, "membershipTimestamp": format_time(at)}
                for rid, at in item.members.items()
            ],
            "total": len(item.members),
        },
    )


# --- communication preferences -------------------------------------------------------------


def _statuses(portal: Portal, email: str) -> list[dict[str, Any]]:
    address = email.lower()
    own = portal.subscription_status.get(address, {})
    out = []
    for sub_id, name in portal.subscriptions.items():
        status = own.get(sub_id, "NOT_SPECIFIED")
        if address in portal.unsubscribed_all:
            status = "NOT_SUBSCRIBED"
        out.append(
            {
                "channel": "EMAIL",
                "subscriberIdString": email,
                "subscriptionId": int(sub_id),
                "subscriptionName": name,
                "status": status,
                "source": "PUBLIC_STATUS_API",
                "timestamp": _stamp(),
            }
        )
    return out


def definitions(portal: Portal, req: Request) -> Response:
    now = _stamp()
    return Response(
        200,
        {
            "subscriptionDefinitions": [
                {
                    "id": sub_id,
                    "name": name,
                    "description": name,
                    "purpose": "",
                    "communicationMethod": "Email",
                    "isActive": True,
                    "isDefault": False,
                    "isInternal": False,
                    "createdAt": now,
                    "updatedAt": now,
                }
                for sub_id, name in portal.subscriptions.items()
            ]
        },
    )


def status_v3(portal: Portal, req: Request, email: str) -> Response:
    return Response(
        200,
        {
            "recipient": email,
            "subscriptionStatuses": [
                {
                    "id": str(s["subscriptionId"]),
                    "name": s["subscriptionName"],
                    "description": s["subscriptionName"],
                    "status": "SUBSCRIBED" if s["status"] == "SUBSCRIBED" else "NOT_SUBSCRIBED",
                    "sourceOfStatus": "SUBSCRIPTION_STATUS",
                }
                for s in _statuses(portal, email)
            ],
        },
    )


def statuses_batch_read(portal: Portal, req: Request) -> Response:
    if req.arg("channel") != "EMAIL":
        return error(400, "VALIDATION_ERROR", "channel must be EMAIL")
    inputs = [str(e) for e in (req.json() or {}).get("inputs") or []]
    if (refused := _too_many(inputs, BATCH_LIMIT)) is not None:
        return refused
    results = [{"subscriberIdString": e, "statuses": _statuses(portal, e)} for e in inputs]
    return _batch(results, [], 200)


def unsubscribe_all(portal: Portal, req: Request, subscriber: str) -> Response:
    """Opt an address out of all e-mail; its contacts get hs_email_optout, as in a portal."""
    if req.arg("channel") != "EMAIL":
        return error(400, "VALIDATION_ERROR", "channel must be EMAIL")
    address = subscriber.lower()
    portal.unsubscribed_all.add(address)
    for record in portal.records["contacts"].values():
        if record.props.get("email", "").lower() == address:
            record.props["hs_email_optout"] = "true"
            portal.update("contacts", record.id, {})
    return _batch(_statuses(portal, subscriber), [], 200)
