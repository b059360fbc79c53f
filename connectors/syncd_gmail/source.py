"""Reads a mailbox's replies incrementally: a full listing once, then Gmail's history.

Cursor values (Cursor.value; RejectionEvent.position is the same string):
- `full:<historyId>` while the first listing runs: every listed reply sits at this one
  position and `boundary_ids` holds the message ids already handled, so a listing cut short
  resumes without loss or repeats. `<historyId>` is the mailbox's history id taken *before*
  listing, so what arrives meanwhile is caught by history afterwards.
- `<historyId>` afterwards: the id of the last history record handled (records are never
  split across pages, and history.list starts after the id it is given). A read that runs to
  the end of the history moves the cursor to the mailbox's current history id.

A stale history id (Gmail keeps history for about a week, sometimes hours) answers 404: the
read falls back to a full listing; replies already acknowledged carry the processed label,
which the listing query excludes.

`until` (now minus the shard's lag) holds back replies that Gmail received after it: such a
reply may not be in the search index yet, and the history check relies on search.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from syncd.connectors import Directory, SkippableRecordError
from syncd.inbox import ReplyEvents
from syncd.model import Cursor, Page, RejectionEvent
from syncd.replies.config import RepliesConfig
from syncd_gmail import shapes
from syncd_gmail.client import GmailClient
from syncd_gmail.errors import NotFoundError
from syncd_gmail.events import EVENT_PREFIX, event_id, inbox_reply, message_id_of
from syncd_gmail.mime import GmailMessage, parse_message
from syncd_gmail.settings import GmailSettings

log = structlog.get_logger(__name__)

FULL_PREFIX = "full:"
BATCH_MODIFY_MAX_IDS = 1000
_SKIP_LABELS = frozenset({"SENT", "DRAFT", "SPAM", "TRASH"})


@dataclass(frozen=True)
class Candidate:
    message_id: str
    thread_id: str
    position: str


@dataclass
class Outcome:
    """What handling a run of candidates produced."""

    events: list[RejectionEvent] = field(default_factory=list)
    handled: set[str] = field(default_factory=set)  # ids that need no second look
    held_back: int | None = None  # history: index of the first one received after `until`
    deferred: bool = False  # listing: some were received after `until`, left for next time
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (ref, why): dead letters


@dataclass
class _Run:
    """Per-read state: the search result the history check uses, looked up once."""

    until: datetime
    query_ids: set[str] | None = None


class GmailSource:
    def __init__(
        self,
        client: GmailClient,
        settings: GmailSettings,
        directory: Directory,
        crm_shard: str,
        replies: RepliesConfig | None = None,
    ):
        self._client = client
        self._settings = settings
        self._events_of = ReplyEvents(
            directory, crm_shard, replies, settings.unknown_senders, settings.quote_chars, "gmail"
        )
        self._rep_started: dict[str, bool] = {}  # thread id -> first message sent by the rep
        self._label_id: str | None = None

    def close(self) -> None:
        self._client.close()

    # --- read ----------------------------------------------------------------------------------

    def read(self, cursor: Cursor | None, until: datetime) -> Iterator[Page]:
        run = _Run(until)
        if cursor is None:
            return self._full(None, frozenset(), run)
        if cursor.value.startswith(FULL_PREFIX):
            baseline = int(cursor.value[len(FULL_PREFIX) :])
            return self._full(baseline, cursor.boundary_ids, run)
        return self._history(int(cursor.value), cursor.boundary_ids, run, skip=frozenset())

    def _full(self, baseline: int | None, seen: frozenset[str], run: _Run) -> Iterator[Page]:
        if baseline is None:
            baseline = int(self._client.profile()["historyId"])
            log.info("gmail.full_sync", baseline=baseline)
        position = f"{FULL_PREFIX}{baseline}"
        handled = set(seen)
        held_back = False
        # All ids first: acknowledging a page labels its messages, which drops them out of the
        # query and would shift the pages of a listing still in progress.
        listed = [
            Candidate(mid, tid, position) for mid, tid in self._search() if mid not in handled
        ]
        for start in range(0, len(listed), self._settings.batch_size):
            chunk = listed[start : start + self._settings.batch_size]
            outcome = self._handle(chunk, run, searched=True)
            handled |= outcome.handled
            held_back = held_back or outcome.deferred
            yield Page(
                outcome.events, Cursor(position, frozenset(handled)), tuple(outcome.unreadable)
            )
        if held_back:
            return  # the next read lists again and picks up what was held back
        yield from self._history(baseline, frozenset(), run, skip=frozenset(handled))

    def _history(
        self, start: int, boundary: frozenset[str], run: _Run, skip: frozenset[str]
    ) -> Iterator[Page]:
        token: str | None = None
        position, last_ids = start, boundary
        yielded = False
        while True:
            request = self._client.history.list(
                userId="me",
                startHistoryId=str(start),
                historyTypes=["messageAdded"],
                labelId=self._settings.history_label or None,
                maxResults=self._settings.page_size,
                pageToken=token,
            )
            try:
                answer = self._client.read(request, "history.list", shapes.history_page)
            except NotFoundError:
                if token is not None:
                    raise
                log.warning("gmail.history_expired", start=start)
                yield from self._full(None, frozenset(), run)
                return
            records = _records(answer, start, boundary, skip)
            for group in _groups(records, self._settings.batch_size):
                candidates = [c for _, cs in group for c in cs]
                outcome = self._handle(candidates, run, searched=False)
                if outcome.held_back is not None:
                    stop = candidates[outcome.held_back].position
                    done = [(rid, cs) for rid, cs in group if rid < int(stop)]
                    if done:
                        keep = {c.message_id for _, cs in done for c in cs}
                        events = [e for e in outcome.events if message_id_of(e) in keep]
                        dead = tuple(
                            u for u in outcome.unreadable if u[0].removeprefix(EVENT_PREFIX) in keep
                        )
                        rid, cs = done[-1]
                        ids = frozenset(c.message_id for c in cs)
                        yield Page(events, Cursor(str(rid), ids), dead)
                    return
                rid, cs = group[-1]
                position, last_ids = rid, frozenset(c.message_id for c in cs)
                yielded = True
                yield Page(
                    outcome.events, Cursor(str(position), last_ids), tuple(outcome.unreadable)
                )
            token = answer.get("nextPageToken")
            if not token:
                break
        head = int(answer.get("historyId") or position)
        if head > position:
            yield Page([], Cursor(str(head)))
        elif not yielded:
            yield Page([], Cursor(str(position), last_ids))

    # --- one run of candidates -------------------------------------------------------------------

    def _handle(self, candidates: Sequence[Candidate], run: _Run, *, searched: bool) -> Outcome:
        """Fetch, filter, classify and match a run of candidate messages (one batch each).

        `searched`: the candidates came from the search query (full listing); otherwise they
        came from history and must also be in the query's result.
        """
        outcome = Outcome()
        if not candidates:
            return outcome
        wanted = None if searched else self._query_ids(run)
        calls = [
            (
                c.message_id,
                self._client.messages.get(
                    userId="me",
                    id=c.message_id,
                    format="full" if wanted is None or c.message_id in wanted else "minimal",
                ),
            )
            for c in candidates
        ]
        fetched = self._client.fetch(calls, "messages.get")
        replies: list[tuple[Candidate, GmailMessage]] = []
        for index, candidate in enumerate(candidates):
            resource = fetched.get(candidate.message_id)
            if resource is None:  # deleted since it was listed
                outcome.handled.add(candidate.message_id)
                continue
            problem = shapes.message_problem(resource)
            if problem is not None:  # can never be read: dead-lettered with the page
                outcome.handled.add(candidate.message_id)
                outcome.unreadable.append((event_id(candidate.message_id), problem))
                continue
            received = int(resource.get("internalDate") or 0) / 1000
            if received > run.until.timestamp():
                if searched:
                    outcome.deferred = True  # not handled: the next listing sees it again
                    continue
                outcome.held_back = index
                break
            outcome.handled.add(candidate.message_id)
            if wanted is not None and candidate.message_id not in wanted:
                continue
            try:
                message = parse_message(resource)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                why = f"the message cannot be parsed ({type(exc).__name__})"
                outcome.unreadable.append((event_id(candidate.message_id), why))
                continue
            if self._is_inbound(message):
                replies.append((candidate, message))
        replies = self._in_rep_threads(replies)
        outcome.events = self._events(replies)
        return outcome

    def _query_ids(self, run: _Run) -> set[str]:
        """Ids the configured query matches now (once per read; bounded by the look-back)."""
        if run.query_ids is None:
            run.query_ids = {mid for mid, _ in self._search()}
        return run.query_ids

    def _search(self) -> list[tuple[str, str]]:
        """(id, thread id) of every message the configured query matches, newest first."""
        found: list[tuple[str, str]] = []
        token: str | None = None
        while True:
            answer = self._client.read(
                self._client.messages.list(
                    userId="me",
                    q=self._settings.full_query(),
                    maxResults=self._settings.page_size,
                    pageToken=token,
                ),
                "messages.list",
                shapes.message_list,
            )
            found.extend(
                (m["id"], m.get("threadId") or m["id"]) for m in answer.get("messages") or []
            )
            token = answer.get("nextPageToken")
            if not token:
                return found

    def _is_inbound(self, message: GmailMessage) -> bool:
        if message.label_ids & _SKIP_LABELS:
            return False
        _, address = message.sender
        return bool(address) and address != self._settings.mailbox

    def _in_rep_threads(
        self, replies: list[tuple[Candidate, GmailMessage]]
    ) -> list[tuple[Candidate, GmailMessage]]:
        """Keep replies in threads the rep started (thread's first message labelled SENT)."""
        if not self._settings.rep_started_threads_only:
            return replies
        replies = [(c, m) for c, m in replies if m.thread_id != m.id]
        unknown = sorted({m.thread_id for _, m in replies} - self._rep_started.keys())
        if unknown:
            calls = [
                (tid, self._client.threads.get(userId="me", id=tid, format="minimal"))
                for tid in unknown
            ]
            for tid, thread in self._client.fetch(calls, "threads.get").items():
                self._rep_started[tid] = _started_by_rep(thread)
            if len(self._rep_started) > 10_000:  # a bounded memo, not a cache of the mailbox
                self._rep_started.clear()
        return [(c, m) for c, m in replies if self._rep_started.get(m.thread_id, False)]

    def _events(self, replies: list[tuple[Candidate, GmailMessage]]) -> list[RejectionEvent]:
        return self._events_of.events([inbox_reply(m, c.position) for c, m in replies])

    # --- acknowledge -----------------------------------------------------------------------------

    def acknowledge(self, events: Sequence[RejectionEvent]) -> None:
        """Label the messages behind these (committed) events; labelling twice is a no-op."""
        ids = sorted({mid for e in events if (mid := message_id_of(e)) is not None})
        if not ids:
            return
        label = self._processed_label()
        for start in range(0, len(ids), BATCH_MODIFY_MAX_IDS):
            chunk = ids[start : start + BATCH_MODIFY_MAX_IDS]
            self._client.write(
                self._client.messages.batchModify(
                    userId="me", body={"ids": chunk, "addLabelIds": [label]}
                ),
                "messages.batchModify",
                idempotent=True,
            )
        log.info("gmail.acknowledged", messages=len(ids), label=label)

    def _processed_label(self) -> str:
        if self._label_id is None:
            self._label_id = self._find_label() or self._create_label()
        return self._label_id

    def _find_label(self) -> str | None:
        answer = self._client.read(
            self._client.labels.list(userId="me"), "labels.list", shapes.label_list
        )
        wanted = self._settings.processed_label.lower()
        for label in answer.get("labels") or []:
            if str(label.get("name", "")).lower() == wanted:
                return str(label["id"])
        return None

    def _create_label(self) -> str:
        body = {
            "name": self._settings.processed_label,
            "labelListVisibility": "labelShow",
            "messageListVisibility": "show",
        }
        try:
            created = self._client.write(
                self._client.labels.create(userId="me", body=body),
                "labels.create",
                idempotent=True,
            )
        except SkippableRecordError:
            found = self._find_label()  # created meanwhile (409): use it
            if found is None:
                raise
            return found
        log.info("gmail.label_created", label=created["id"])
        return str(created["id"])


def _records(
    answer: dict[str, Any], start: int, boundary: frozenset[str], skip: frozenset[str]
) -> list[tuple[int, list[Candidate]]]:
    records: list[tuple[int, list[Candidate]]] = []
    for record in answer.get("history") or []:
        rid = int(record["id"])
        candidates = []
        for added in record.get("messagesAdded") or []:
            message = added.get("message") or {}
            mid = str(message.get("id", ""))
            if not mid or mid in skip or (rid == start and mid in boundary):
                continue
            candidates.append(Candidate(mid, str(message.get("threadId") or mid), str(rid)))
        records.append((rid, candidates))
    return sorted(records, key=lambda r: r[0])


def _groups(
    records: list[tuple[int, list[Candidate]]], size: int
) -> Iterator[list[tuple[int, list[Candidate]]]]:
    """Whole records, about `size` messages a group (a record is never split)."""
    group: list[tuple[int, list[Candidate]]] = []
    count = 0
    for record in records:
        if group and count + len(record[1]) > size:
            yield group
            group, count = [], 0
        group.append(record)
        count += len(record[1])
    if group:
        yield group


def _started_by_rep(thread: dict[str, Any] | None) -> bool:
    if not thread:
        return False
    messages = sorted(thread.get("messages") or [], key=lambda m: int(m.get("internalDate") or 0))
    return bool(messages) and "SENT" in (messages[0].get("labelIds") or [])
