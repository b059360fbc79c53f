"""The fake portal's settings-side endpoints: properties, pipelines, static lists and
communication preferences, with the status codes and bodies HubSpot answers.

Like `fake_crm`, each handler takes the `Portal` and the request and returns a `Response`.
"""

from __future__ import annotations

from typing import Any

from syncd.testing.httpfake import Request, Response
from syncd_hubspot.fake_crm import BATCH_LIMIT, batch_response, error, object_type, stamp, too_many
from syncd_hubspot.fake_search import format_time
from syncd_hubspot.fake_store import (
    OBJECT_TYPE_IDS,
    InputError,
    Pipeline,
    Portal,
    StaticList,
    canonical_type,
)

# --- schema: properties and pipelines -----------------------------------------------------


def properties_all(portal: Portal, req: Request, obj: str) -> Response:
    kind = object_type(obj)
    now = stamp()
    return Response(200, {"results": [p.as_json(kind, now) for p in portal.schema[kind].values()]})


def property_one(portal: Portal, req: Request, obj: str, name: str) -> Response:
    kind = object_type(obj)
    prop = portal.property(kind, name)
    if prop is None:
        return error(404, "OBJECT_NOT_FOUND", f"property {name} does not exist")
    return Response(200, prop.as_json(kind, stamp()))


def property_create(portal: Portal, req: Request, obj: str) -> Response:
    kind = object_type(obj)
    try:
        prop = portal.create_property(kind, req.json() or {})
    except InputError as exc:
        return error(409, exc.category, str(exc))
    return Response(201, prop.as_json(kind, stamp()))


def _pipeline_json(pipeline: Pipeline) -> dict[str, Any]:
    now = stamp()
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
    kind = object_type(obj)
    return Response(200, {"results": [_pipeline_json(p) for p in portal.pipelines.get(kind, [])]})


def pipeline_one(portal: Portal, req: Request, obj: str, pid: str) -> Response:
    kind = object_type(obj)
    for pipeline in portal.pipelines.get(kind, []):
        if pipeline.id == pid:
            return Response(200, _pipeline_json(pipeline))
    return error(404, "OBJECT_NOT_FOUND", "pipeline not found")


# --- lists ---------------------------------------------------------------------------------


def _list_json(item: StaticList) -> dict[str, Any]:
    now = stamp()
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
                "timestamp": stamp(),
            }
        )
    return out


def definitions(portal: Portal, req: Request) -> Response:
    now = stamp()
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
    if (refused := too_many(inputs, BATCH_LIMIT)) is not None:
        return refused
    results = [{"subscriberIdString": e, "statuses": _statuses(portal, e)} for e in inputs]
    return batch_response(results, [], 200)


def unsubscribe_all(portal: Portal, req: Request, subscriber: str) -> Response:
    """Opt an address out of all e-mail; its contacts get hs_email_optout, as in a portal."""
    if req.arg("channel") != "EMAIL":
        return error(400, "VALIDATION_ERROR", "channel must be EMAIL")
    portal.unsubscribe_all(subscriber)
    return batch_response(_statuses(portal, subscriber), [], 200)


def owners_page(portal: Portal, req: Request) -> Response:
    """GET /crm/v3/owners/: active owners, or only archived ones with archived=true."""
    archived = (req.arg("archived", "false") or "false").lower() == "true"
    limit = int(req.arg("limit", "100") or 100)
    after = int(req.arg("after", "0") or 0)
    ids = sorted((i for i, o in portal.owners.items() if o["archived"] is archived), key=int)
    chunk = ids[after : after + limit]
    body: dict[str, Any] = {"results": [portal.owners[i] for i in chunk]}
    if after + limit < len(ids):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return Response(200, body)
