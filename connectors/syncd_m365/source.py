"""Reads a mailbox's replies with a messages delta query on the Inbox.

Cursor values (Cursor.value; RejectionEvent.position is the value the page was read from):
- `skip:<token>` inside a round: the `$skiptoken` of the round's next page. Skip tokens
  carry the round's state, so a read stopped after any page resumes there without loss or
  repeats (no boundary ids are needed).
- `delta:<token>` between rounds: the `$deltatoken` of the round's last page; the next read
  returns what changed since.

Each page carries the message bodies (`$select` names every field used, with the text body
preferred), so a reply costs no call of its own. A processed message gets the `category`
after its page commits (`acknowledge`); a categorised message changes, so it comes back in
the next round once and is skipped. An expired token (410 syncStateNotFound) starts a new
round from scratch: messages already categorised are skipped, so nothing is decided twice.

Graph's delta has no search index behind it, so `until` (the lag for search indexes) holds
nothing back here: a message in a page is complete when it is listed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import structlog

from syncd.connectors import Directory, MalformedAnswer, SkippableRecordError
from syncd.inbox import InboxReply, ReplyEvents
from syncd.model import Cursor, Page, RejectionEvent
from syncd.replies.config import RepliesConfig
from syncd_m365.client import GraphClient, SyncStateExpired, quote_odata
from syncd_m365.settings import M365Settings

log = structlog.get_logger(__name__)

EVENT_PREFIX = "ms:msg:"
SKIP, DELTA = "skip:", "delta:"
SELECT = "id,conversationId,subject,from,receivedDateTime,internetMessageId,body,categories,isDraft"
_MEMO_MAX = 10_000


def event_id(message_id: str) -> str:
    return EVENT_PREFIX + message_id


def message_id_of(event: RejectionEvent) -> str | None:
    """The Graph message id behind one of this connector's events."""
    if event.event_id.startswith(EVENT_PREFIX):
        return event.event_id[len(EVENT_PREFIX) :]
    return None


class M365Source:
    def __init__(
        self,
        client: GraphClient,
        settings: M365Settings,
        directory: Directory,
        crm_shard: str,
        replies: RepliesConfig | None = None,
    ):
        self._client = client
        self._settings = settings
        self._events_of = ReplyEvents(
            directory, crm_shard, replies, settings.unknown_senders, settings.quote_chars, "m365"
        )
        self._rep_started: dict[str, bool] = {}  # conversation id -> the rep wrote in it
        self._categories: dict[str, list[str]] = {}  # message id -> categories when read
        self._category_ready = False

    def close(self) -> None:
        self._client.close()

    @property
    def _delta_path(self) -> str:
        return f"{self._settings.user_path}/mailFolders/inbox/messages/delta"

    @property
    def _headers(self) -> dict[str, str]:
        return {
            "Prefer": f"odata.maxpagesize={self._settings.page_size}, "
            'outlook.body-content-type="text"'
        }

    # --- read ----------------------------------------------------------------------------------

    def read(self, cursor: Cursor | None, until: datetime) -> Iterator[Page]:
        value = cursor.value if cursor is not None else None
        try:
            yield from self._round(value)
        except SyncStateExpired:
            log.warning("m365.delta_expired")
            yield from self._round(None)

    def _round(self, value: str | None) -> Iterator[Page]:
        position = value or "start"
        while True:
            answer = self._client.request(
                "GET",
                self._delta_path,
                "messages.delta",
                params=self._params(value),
                headers=self._headers,
            )
            items, next_link, delta_link = _delta_page(answer)
            readable, unreadable = _readable(items)
            replies = self._replies(readable, position)
            events = self._events_of.events(replies)
            if next_link:
                value = SKIP + _token(next_link, "$skiptoken")
            else:
                value = DELTA + _token(delta_link, "$deltatoken")
            yield Page(events, Cursor(value), unreadable)
            if not next_link:
                return
            position = value

    def _params(self, value: str | None) -> dict[str, str]:
        if value is None:
            return {"$select": SELECT}
        if value.startswith(SKIP):
            return {"$skiptoken": value[len(SKIP) :]}
        if value.startswith(DELTA):
            return {"$deltatoken": value[len(DELTA) :]}
        raise SkippableRecordError(f"unreadable cursor {value[:20]!r}; reset the shard's cursor")

    def _replies(self, items: list[dict[str, Any]], position: str) -> list[InboxReply]:
        inbound = []
        for item in items:
            if "@removed" in item or item.get("isDraft"):
                continue
            categories = [str(c) for c in item.get("categories") or []]
            if self._settings.category in categories:
                continue  # handled in an earlier round
            sender = (item.get("from") or {}).get("emailAddress") or {}
            address = str(sender.get("address") or "").strip().lower()
            if not address or address == self._settings.mailbox:
                continue
            if len(self._categories) > _MEMO_MAX:
                self._categories.clear()
            self._categories[str(item["id"])] = categories
            inbound.append((item, str(sender.get("name") or ""), address))
        started = self._started({str(i.get("conversationId") or "") for i, _, _ in inbound})
        return [
            _inbox_reply(item, name, address, position)
            for item, name, address in inbound
            if started.get(str(item.get("conversationId") or ""), False)
        ]

    def _started(self, conversations: set[str]) -> dict[str, bool]:
        """Whether the rep wrote in each conversation (a sent message in it), batched."""
        if not self._settings.rep_started_threads_only:
            return dict.fromkeys(conversations, True)
        unknown = sorted(c for c in conversations - self._rep_started.keys() if c)
        if unknown:
            calls = [
                (
                    str(n),
                    {
                        "method": "GET",
                        "url": f"/users/{self._settings.mailbox}/mailFolders/sentitems/messages"
                        f"?$filter=conversationId eq '{quote_odata(cid)}'&$select=id&$top=1",
                    },
                )
                for n, cid in enumerate(unknown)
            ]
            answers = self._client.batch(calls, "sentitems.list")
            if len(self._rep_started) > _MEMO_MAX:
                self._rep_started.clear()
            for n, cid in enumerate(unknown):
                answer = answers.get(str(n))
                if answer is None or not answer.ok:
                    continue  # asked again on the next page that holds it
                self._rep_started[cid] = bool((answer.body or {}).get("value"))
        return {c: self._rep_started.get(c, False) for c in conversations}

    # --- acknowledge -----------------------------------------------------------------------------

    def acknowledge(self, events: Sequence[RejectionEvent]) -> None:
        """Categorise the messages behind these (committed) events; twice is a no-op."""
        ids = sorted({mid for e in events if (mid := message_id_of(e)) is not None})
        if not ids:
            return
        self._ensure_category()
        category = self._settings.category
        calls = []
        for mid in ids:
            current = self._categories.pop(mid, [])
            calls.append(
                (
                    mid,
                    {
                        "method": "PATCH",
                        "url": f"/users/{self._settings.mailbox}/messages/{mid}",
                        "headers": {"Content-Type": "application/json"},
                        "body": {"categories": [*current, category]},
                    },
                )
            )
        answers = self._client.batch(calls, "messages.categorise", write=True)
        failed = [mid for mid, answer in answers.items() if not answer.ok and answer.status != 404]
        if failed:
            log.warning("m365.categorise_failed", messages=len(failed))
        log.info("m365.acknowledged", messages=len(ids) - len(failed))

    def _ensure_category(self) -> None:
        """The category exists in the mailbox's master list (so Outlook shows it)."""
        if self._category_ready:
            return
        if not has_category(self._client, self._settings):
            with contextlib.suppress(SkippableRecordError):  # created meanwhile (409)
                create_category(self._client, self._settings)
        self._category_ready = True


def has_category(client: GraphClient, settings: M365Settings) -> bool:
    """Whether the category is in the mailbox's master list (so Outlook shows it)."""
    path = f"{settings.user_path}/outlook/masterCategories"
    found = client.request("GET", path, "masterCategories.list")
    names = {str(c.get("displayName", "")).lower() for c in (found or {}).get("value") or []}
    return settings.category.lower() in names


def create_category(client: GraphClient, settings: M365Settings) -> None:
    client.request(
        "POST",
        f"{settings.user_path}/outlook/masterCategories",
        "masterCategories.create",
        write=True,
        body={"displayName": settings.category, "color": "preset7"},
    )


def _token(link: str, name: str) -> str:
    values = parse_qs(urlsplit(link).query).get(name)
    if not values:
        raise SkippableRecordError(f"Graph's delta answer carries no {name}")
    return values[0]


def _delta_page(answer: Any) -> tuple[list[Any], str, str]:
    """(messages, next link, delta link) of a delta answer; one that lacks its messages or
    both links is malformed, never an empty page that would move the cursor past replies."""
    if not isinstance(answer, dict) or not isinstance(answer.get("value"), list):
        raise MalformedAnswer("messages.delta: Graph's answer has no list of messages")
    next_link, delta_link = answer.get("@odata.nextLink"), answer.get("@odata.deltaLink")
    if not (isinstance(next_link, str) and next_link) and not (
        isinstance(delta_link, str) and delta_link
    ):
        raise MalformedAnswer("messages.delta: Graph's answer has neither a next nor a delta link")
    return answer["value"], next_link if isinstance(next_link, str) else "", str(delta_link or "")


_TEXT = (str, type(None))
_FIELDS: dict[str, tuple[type, ...]] = {
    "from": (dict, type(None)),
    "categories": (list, type(None)),
    "conversationId": _TEXT,
    "subject": _TEXT,
    "internetMessageId": _TEXT,
    "receivedDateTime": _TEXT,
    "body": (dict, type(None)),
    "isDraft": (bool, type(None)),
}


def _readable(items: list[Any]) -> tuple[list[dict[str, Any]], tuple[tuple[str, str], ...]]:
    """The messages of the shape Graph documents, and (id, why) for each that is not: the
    engine dead-letters those with the page instead of the cycle failing on them forever."""
    good: list[dict[str, Any]] = []
    bad: list[tuple[str, str]] = []
    for n, item in enumerate(items):
        mid = item.get("id") if isinstance(item, dict) else None
        if not isinstance(mid, str) or not mid:
            bad.append((event_id(f"#{n}"), "a message without an id"))
            continue
        wrong = sorted(k for k, kinds in _FIELDS.items() if not isinstance(item.get(k), kinds))
        sender = item.get("from") or {}
        address = sender.get("emailAddress") if isinstance(sender, dict) else None
        if not isinstance(address, dict | None) or not all(
            isinstance(v, _TEXT) for v in (address or {}).values()
        ):
            wrong.append("from.emailAddress")
        body = item.get("body") or {}
        if isinstance(body, dict) and not all(isinstance(v, _TEXT) for v in body.values()):
            wrong.append("body")
        if wrong:
            bad.append((event_id(mid), f"fields of the wrong type: {', '.join(wrong)}"))
            continue
        good.append(item)
    return good, tuple(bad)


def _received(item: dict[str, Any]) -> datetime:
    raw = str(item.get("receivedDateTime") or "")
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _inbox_reply(item: dict[str, Any], name: str, address: str, position: str) -> InboxReply:
    body = item.get("body") or {}
    content = str(body.get("content") or "")
    html = content if str(body.get("contentType", "")).lower() == "html" else None
    received = _received(item)
    mid = str(item["id"])
    return InboxReply(
        event_id=event_id(mid),
        message_id=mid,
        thread_id=str(item.get("conversationId") or mid),
        rfc822_id=str(item.get("internetMessageId") or ""),
        references="",
        sender_name=name,
        sender=address,
        subject=str(item.get("subject") or ""),
        date=received,
        received=received,
        headers={
            "From": f"{name} <{address}>" if name else address,
            "Subject": str(item.get("subject") or ""),
        },
        text="" if html is not None else content,
        html=html,
        position=position,
    )
