"""Batched CRM reads shared by the source, the directory and the sink.

Everything here reads many records per call: objects 100 a call (the batch limit), and
associations 1,000 a call (v4 batch read). Typed client models are turned into plain
`(id, properties)` pairs at once, so nothing above this module touches a vendor model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from syncd.connectors import MalformedAnswer
from syncd_hubspot.client import HubSpotApi
from syncd_hubspot.shapes import Unreadable, answer_object, next_after, record, results

OBJECT_BATCH = 100
ASSOCIATION_BATCH = 1000
NOT_FOUND_MAX = 100_000  # deleted ids remembered per object type before starting afresh
# Search bodies may not exceed 3,000 characters, and IN takes at most 100 values: leave room
# for the rest of the request.
IN_VALUES_BUDGET = 2200
IN_VALUES_MAX = 100

# Where each object type lives in the client; tasks sit under crm.objects.
API_ROOT = {
    "contacts": "crm.contacts",
    "companies": "crm.companies",
    "deals": "crm.deals",
    "tasks": "crm.objects.tasks",
}

T = TypeVar("T")
Props = dict[str, str | None]


def _page(answer: Any, what: str) -> None:
    results(answer, what)
    next_after(answer_object(answer, what), what)


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def unique(items: Iterable[str]) -> list[str]:
    """Distinct values, first-seen order."""
    return list(dict.fromkeys(items))


def in_filter_chunks(values: Iterable[str]) -> Iterator[list[str]]:
    """Split values for IN filters so that each search body stays within HubSpot's limits."""
    chunk: list[str] = []
    size = 0
    for value in unique(values):
        cost = len(json.dumps(value)) + 1
        if chunk and (size + cost > IN_VALUES_BUDGET or len(chunk) >= IN_VALUES_MAX):
            yield chunk
            chunk, size = [], 0
        chunk.append(value)
        size += cost
    if chunk:
        yield chunk


@dataclass(frozen=True)
class Stage:
    pipeline_id: str
    stage_id: str
    label: str
    closed: bool
    lost: bool  # closed with probability 0


class Crm:
    def __init__(self, api: HubSpotApi):
        self.api = api
        # Records that came back in a shape syncd can never read; the source dead-letters them.
        self.unreadable = Unreadable()
        # ids HubSpot answered OBJECT_NOT_FOUND for, by object type: deleted or merged away
        self.not_found: dict[str, set[str]] = {}

    def _records(self, object_type: str, answer: Any, what: str) -> Iterator[tuple[str, Props]]:
        for item in results(answer, what):
            parsed = record(item)
            if parsed is None:
                self.unreadable.add(object_type, item, f"{what}: record of the wrong shape")
                continue
            yield parsed

    def batch_read(
        self, object_type: str, ids: Iterable[str], properties: Sequence[str]
    ) -> dict[str, Props]:
        """Properties of these records (missing ones are simply absent), 100 a call."""
        wanted = unique(i for i in ids if i)
        out: dict[str, Props] = {}
        for chunk in chunked(wanted, OBJECT_BATCH):
            body = {"properties": list(properties), "inputs": [{"id": i} for i in chunk]}
            answer = self.api.read(
                f"{object_type}.batch_read",
                f"{API_ROOT[object_type]}.batch_api",
                "read",
                body,
                validate=partial(results, what=f"{object_type}.batch_read"),
            )
            what = f"{object_type}.batch_read"
            found = dict(self._records(object_type, answer, what))
            out.update(found)
            gone = self.not_found.setdefault(object_type, set())
            if len(gone) > NOT_FOUND_MAX:
                gone.clear()
            gone.difference_update(found)
            gone.update(i for i in _not_found(answer) if i in chunk and i not in found)
        return out

    def associations(
        self, from_type: str, to_type: str, ids: Iterable[str]
    ) -> dict[str, list[str]]:
        """Associated record ids per source id, in the portal's order, 1,000 ids a call."""
        wanted = unique(i for i in ids if i)
        out: dict[str, list[str]] = {}
        for chunk in chunked(wanted, ASSOCIATION_BATCH):
            body = {"inputs": [{"id": i} for i in chunk]}
            answer = self.api.read(
                f"associations.{from_type}.{to_type}",
                "crm.associations.v4.batch_api",
                "get_page",
                from_type,
                to_type,
                body,
                validate=partial(results, what=f"associations.{from_type}.{to_type}"),
            )
            what = f"associations.{from_type}.{to_type}"
            for item in results(answer, what):
                source = item.get("from") if isinstance(item, dict) else None
                targets = item.get("to") if isinstance(item, dict) else None
                if not isinstance(source, dict) or not isinstance(targets, list):
                    raise MalformedAnswer(f"{what}: an association of the wrong shape")
                linked = [
                    str(t["toObjectId"])
                    for t in targets
                    if isinstance(t, dict) and isinstance(t.get("toObjectId"), str | int)
                ]
                out[str(source.get("id"))] = unique(linked)
        return out

    def search(
        self, object_type: str, body: dict[str, Any]
    ) -> tuple[list[tuple[str, Props]], str | None]:
        """One search page: (id, properties) pairs and the `after` of the next page."""
        what = f"{object_type}.search"
        answer = self.api.search(
            what, f"{API_ROOT[object_type]}.search_api", body, validate=partial(_page, what=what)
        )
        rows = list(self._records(object_type, answer, what))
        return rows, next_after(answer_object(answer, what), what)

    def deal_stages(self) -> list[Stage]:
        """Every deal stage of every pipeline, with closed / lost read from its metadata."""
        answer = self.api.read(
            "pipelines.deals",
            "crm.pipelines.pipelines_api",
            "get_all",
            "deals",
            validate=partial(results, what="pipelines.deals"),
        )
        stages = []
        for pipeline in results(answer, "pipelines.deals"):
            if (
                not isinstance(pipeline, dict)
                or not isinstance(pipeline.get("stages"), list)
                or "id" not in pipeline
            ):
                raise MalformedAnswer("pipelines.deals: a pipeline of the wrong shape")
            for stage in pipeline["stages"]:
                if (
                    not isinstance(stage, dict)
                    or not isinstance(stage.get("metadata", {}), dict)
                    or "id" not in stage
                ):
                    raise MalformedAnswer("pipelines.deals: a stage of the wrong shape")
                meta = stage.get("metadata") or {}
                closed = str(meta.get("isClosed", "")).lower() == "true"
                try:
                    probability = float(meta.get("probability", "nan"))
                except (TypeError, ValueError):
                    probability = float("nan")
                stages.append(
                    Stage(
                        str(pipeline["id"]),
                        str(stage["id"]),
                        str(stage.get("label", "")),
                        closed,
                        closed and probability == 0.0,
                    )
                )
        return stages

    def owners(self) -> list[str]:
        """Ids of the portal's active owners (users who can be given tasks), 500 a call."""
        out: list[str] = []
        after: str | None = None
        while True:
            page: dict[str, Any] = {"limit": 500, "archived": False}
            if after is not None:
                page["after"] = after
            answer = self.api.read("owners", "crm.owners.owners_api", "get_page", **page)
            out += [str(o["id"]) for o in answer.get("results") or [] if not o.get("archived")]
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if after is None:
                return out

    def search_all(
        self, object_type: str, filters: list[dict[str, Any]], properties: Sequence[str]
    ) -> Iterator[tuple[str, Props]]:
        """Every match of a small look-up query (well under the 10,000 cap), 200 a page."""
        after: str | None = None
        while True:
            body: dict[str, Any] = {
                "filterGroups": [{"filters": filters}],
                "properties": list(properties),
                "limit": 200,
            }
            if after is not None:
                body["after"] = after
            rows, after = self.search(object_type, body)
            yield from rows
            if after is None:
                return


def _not_found(answer: Any) -> Iterator[str]:
    """The ids a batch answer's OBJECT_NOT_FOUND errors name (none from a garbled answer)."""
    errors = answer.get("errors") if isinstance(answer, dict) else None
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict) or error.get("category") != "OBJECT_NOT_FOUND":
            continue
        context = error.get("context")
        ids = context.get("ids") if isinstance(context, dict) else None
        for value in ids if isinstance(ids, list) else []:
            if isinstance(value, str | int):
                yield str(value)
