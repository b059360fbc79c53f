"""The shapes of HubSpot answers syncd reads, checked where they are parsed.

A whole answer of the wrong shape (no `results` list, a non-object body) is a
`MalformedAnswer`: retried, never taken for an empty last page. One record of the wrong shape
inside a good answer can never be read: it is left out and listed in `Unreadable`, so the
source dead-letters it with its page instead of losing it silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from syncd.connectors import MalformedAnswer

Props = dict[str, str | None]


def answer_object(answer: Any, what: str, *, write: bool = False) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise MalformedAnswer(
            f"{what}: HubSpot answered {type(answer).__name__}, not a JSON object", in_doubt=write
        )
    return answer


def results(answer: Any, what: str, *, write: bool = False) -> list[Any]:
    """The `results` list of an answer; missing or not a list is a malformed answer."""
    items = answer_object(answer, what, write=write).get("results")
    if not isinstance(items, list):
        raise MalformedAnswer(f"{what}: HubSpot's answer has no results list", in_doubt=write)
    return items


def record_id(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("id"), str | int):
        value = str(item["id"])
        return value if value else None
    return None


def record(item: Any) -> tuple[str, Props] | None:
    """(id, properties) of one result, or None when it has not that shape."""
    rid = record_id(item)
    props = item.get("properties", {}) if isinstance(item, dict) else None
    if rid is None or not isinstance(props, dict):
        return None
    if not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in props.items()):
        return None
    return rid, dict(props)


def next_after(answer: dict[str, Any], what: str) -> str | None:
    """`paging.next.after`, None on the last page; present but malformed is an error."""
    paging = answer.get("paging")
    if paging is None:
        return None
    if not isinstance(paging, dict):
        raise MalformedAnswer(f"{what}: HubSpot's paging is not an object")
    nxt = paging.get("next")
    if nxt is None:
        return None
    after = nxt.get("after") if isinstance(nxt, dict) else None
    if not isinstance(after, str | int) or isinstance(after, bool) or not str(after).isdigit():
        raise MalformedAnswer(f"{what}: HubSpot's paging.next.after is malformed")
    return str(after)


class Unreadable:
    """Records left out because they can never be read: (record ref, why), drained per page."""

    def __init__(self) -> None:
        self._items: list[tuple[str, str]] = []

    def add(self, object_type: str, item: Any, why: str) -> None:
        self._items.append((f"hs:{object_type}:{record_id(item) or '?'}", why))

    def drain(self) -> tuple[tuple[str, str], ...]:
        items, self._items = tuple(self._items), []
        return items

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)
