"""The shapes of Gmail answers syncd reads, checked inside the retried call.

Gmail leaves `history` and `messages` out of an answer when there are none, so their absence
alone proves nothing; the keys it always sends (`historyId`, `resultSizeEstimate`) tell an
empty answer from a garbled one. A whole answer of the wrong shape is a `MalformedAnswer`
(retried); one message resource of the wrong shape is dead-lettered by the source.
"""

from __future__ import annotations

from typing import Any

from syncd.connectors import MalformedAnswer


def _object(answer: Any, what: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise MalformedAnswer(f"Gmail answered {what} with {type(answer).__name__}, not an object")
    return answer


def _digits(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and str(value).isdigit()


def _token(answer: dict[str, Any], what: str) -> None:
    token = answer.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise MalformedAnswer(f"Gmail's {what} nextPageToken is not a string")


def _list_of_objects(answer: dict[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    items = answer.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MalformedAnswer(f"Gmail's {what} {key} is not a list of objects")
    return items


def profile(answer: Any) -> None:
    if not _digits(_object(answer, "users.getProfile").get("historyId")):
        raise MalformedAnswer("Gmail's profile has no historyId")


def history_page(answer: Any) -> None:
    what = "history.list"
    page = _object(answer, what)
    if not _digits(page.get("historyId")):
        raise MalformedAnswer(f"Gmail's {what} answer has no historyId")
    _token(page, what)
    for record in _list_of_objects(page, "history", what):
        if not _digits(record.get("id")):
            raise MalformedAnswer(f"Gmail's {what} has a record without an id")
        added = record.get("messagesAdded", [])
        if not isinstance(added, list) or not all(
            isinstance(a, dict) and isinstance(a.get("message", {}), dict) for a in added
        ):
            raise MalformedAnswer(f"Gmail's {what} messagesAdded is malformed")


def message_list(answer: Any) -> None:
    what = "messages.list"
    page = _object(answer, what)
    if "resultSizeEstimate" not in page:
        raise MalformedAnswer(f"Gmail's {what} answer has no resultSizeEstimate")
    _token(page, what)
    if not all(isinstance(m.get("id"), str) for m in _list_of_objects(page, "messages", what)):
        raise MalformedAnswer(f"Gmail's {what} has a message without an id")


def label_list(answer: Any) -> None:
    _list_of_objects(_object(answer, "labels.list"), "labels", "labels.list")


def message_problem(resource: Any) -> str | None:
    """Why one fetched message resource can never be read, or None when it can."""
    if not isinstance(resource, dict):
        return "the message is not an object"
    if not isinstance(resource.get("id"), str):
        return "the message has no id"
    if "internalDate" in resource and not _digits(resource["internalDate"]):
        return "the message's internalDate is not a number"
    if not isinstance(resource.get("labelIds", []), list):
        return "the message's labelIds is not a list"
    if not isinstance(resource.get("payload", {}), dict):
        return "the message's payload is not an object"
    return None
