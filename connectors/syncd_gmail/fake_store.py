"""The state of one local Gmail mailbox: messages, threads, labels, drafts and history.

Kept apart from the HTTP layer so the rules Gmail applies are readable on their own: a
message joins a thread only when the thread id is given (or found from References), its
References / In-Reply-To name a message of that thread, and the subjects match; every change
that Gmail records (message added or deleted, labels added or removed) appends one history
record; history older than the retention floor is gone (404 for a stale startHistoryId).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message

from syncd_gmail.fake_search import SearchContext, compile_query

SYSTEM_LABELS = (
    "INBOX",
    "SENT",
    "DRAFT",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "SPAM",
    "TRASH",
    "CHAT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
)
_FIRST_MESSAGE_ID = 0x18D2A4C000000000
_FIRST_HISTORY_ID = 100_000
_FIRST_DRAFT_ID = 7_204_000_000_000_000_000
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fw|fwd|wg|tr|rv|r)\s*:\s*)+", re.IGNORECASE)


class MailboxError(Exception):
    """A request Gmail refuses; the HTTP layer renders it in Google's error format."""

    def __init__(self, status: int, message: str, reason: str):
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


def subject_key(subject: str) -> str:
    """The subject Gmail compares for threading: reply / forward prefixes removed."""
    return _REPLY_PREFIX.sub("", subject or "").strip().lower()


def _message_ids(value: str) -> list[str]:
    return [m.lower() for m in re.findall(r"<[^<>\s]+>", value or "")]


@dataclass
class Label:
    id: str
    name: str
    type: str = "user"  # "system" | "user"
    label_list_visibility: str = "labelShow"
    message_list_visibility: str = "show"

    def resource(self) -> dict[str, object]:
        body: dict[str, object] = {"id": self.id, "name": self.name, "type": self.type}
        if self.type == "user":
            body["labelListVisibility"] = self.label_list_visibility
            body["messageListVisibility"] = self.message_list_visibility
        return body


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    raw: bytes
    parsed: EmailMessage
    label_ids: set[str]
    internal_date: datetime
    history_id: int

    def header(self, name: str) -> str:
        value = self.parsed.get(name)
        return "" if value is None else str(value)

    @property
    def search_text(self) -> str:
        return " ".join(
            (self.header("Subject"), self.header("From"), self.header("To"), _text(self.parsed))
        )

    @property
    def has_attachment(self) -> bool:
        return any(part.get_filename() for part in self.parsed.walk())

    @property
    def internal_date_ms(self) -> int:
        return int(self.internal_date.timestamp() * 1000)


def _text(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                try:
                    return payload.decode(charset, errors="replace")
                except LookupError:
                    return payload.decode("utf-8", errors="replace")
    return ""


@dataclass(frozen=True)
class HistoryRecord:
    id: int
    kind: str  # messageAdded | messageDeleted | labelAdded | labelRemoved
    message_id: str
    thread_id: str
    labels_at: frozenset[str]  # the message's labels right after the change
    changed: tuple[str, ...] = ()  # label ids added or removed


@dataclass
class Draft:
    id: str
    message_id: str


@dataclass
class Mailbox:
    """One user's mailbox. Callers hold `lock` for compound operations."""

    address: str
    lock: threading.RLock = field(default_factory=threading.RLock)
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    drafts: dict[str, Draft] = field(default_factory=dict)
    history: list[HistoryRecord] = field(default_factory=list)
    history_id: int = _FIRST_HISTORY_ID
    history_floor: int = _FIRST_HISTORY_ID  # startHistoryId below this: 404
    _next_message: int = _FIRST_MESSAGE_ID
    _next_label: int = 1
    _next_draft: int = _FIRST_DRAFT_ID
    _threads: dict[str, set[str]] = field(default_factory=dict)  # thread id -> message ids
    _by_rfc822_id: dict[str, str] = field(default_factory=dict)  # <Message-ID> -> message id

    def __post_init__(self) -> None:
        for name in SYSTEM_LABELS:
            self.labels[name] = Label(name, name, type="system")

    def first_message_id(self, value: int) -> None:
        """Where this mailbox's message ids start (before its first message)."""
        with self.lock:
            assert not self.messages, "set the first message id before seeding messages"
            self._next_message = value

    # --- labels ----------------------------------------------------------------------------

    def create_label(self, name: str, list_vis: str, message_vis: str) -> Label:
        with self.lock:
            if not name.strip():
                raise MailboxError(400, "Invalid label name", "invalidArgument")
            if any(label.name.lower() == name.lower() for label in self.labels.values()):
                raise MailboxError(409, "Label name exists or conflicts", "duplicate")
            label = Label(f"Label_{self._next_label}", name, "user", list_vis, message_vis)
            self._next_label += 1
            self.labels[label.id] = label
            return label

    def _check_labels(self, label_ids: Iterable[str]) -> None:
        for label_id in label_ids:
            if label_id not in self.labels:
                raise MailboxError(400, f"Invalid label: {label_id}", "invalidArgument")

    # --- messages --------------------------------------------------------------------------

    def get(self, message_id: str) -> StoredMessage:
        message = self.messages.get(message_id)
        if message is None:
            raise MailboxError(404, "Requested entity was not found.", "notFound")
        return message

    def thread(self, thread_id: str) -> list[StoredMessage]:
        members = [self.messages[i] for i in self._threads.get(thread_id, ())]
        if not members:
            raise MailboxError(404, "Requested entity was not found.", "notFound")
        return sorted(members, key=lambda m: (m.internal_date, m.id))

    def _thread_for(self, parsed: Message, wanted: str | None) -> str | None:
        """The thread a new message joins, by Gmail's rules.

        Through the API (a `threadId` given): References / In-Reply-To must name a message of
        that thread and the subjects must match, else Gmail starts a new thread. Delivered
        mail (no threadId) joins the thread its References name, whatever the subject says
        ("Automatic reply: …" answers stay in their conversation).
        """
        refs = _message_ids(str(parsed.get("References", "")))
        refs += _message_ids(str(parsed.get("In-Reply-To", "")))
        subject = subject_key(str(parsed.get("Subject", "")))
        for ref in reversed(refs):  # the nearest ancestor first
            candidate = self.messages.get(self._by_rfc822_id.get(ref, ""))
            if candidate is None or (wanted is not None and candidate.thread_id != wanted):
                continue
            if wanted is None or subject_key(candidate.header("Subject")) == subject:
                return candidate.thread_id
        return None

    def add(
        self,
        raw: bytes,
        label_ids: Iterable[str],
        *,
        thread_id: str | None = None,
        internal_date: datetime | None = None,
        use_date_header: bool = False,
    ) -> StoredMessage:
        """Store a message (insert, import, a draft's message) and record messageAdded."""
        labels = set(label_ids)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self._check_labels(labels)
            if internal_date is None:
                internal_date = datetime.now(UTC)
                if use_date_header and parsed.get("Date"):
                    with contextlib.suppress(TypeError, ValueError):
                        internal_date = email.utils.parsedate_to_datetime(str(parsed["Date"]))
            if internal_date.tzinfo is None:
                internal_date = internal_date.replace(tzinfo=UTC)
            message_id = f"{self._next_message:x}"
            self._next_message += 1
            thread = self._thread_for(parsed, thread_id) or message_id
            self.history_id += 1
            stored = StoredMessage(
                message_id, thread, raw, parsed, labels, internal_date, self.history_id
            )
            self.messages[message_id] = stored
            self._threads.setdefault(thread, set()).add(message_id)
            for rfc822_id in _message_ids(stored.header("Message-ID"))[:1]:
                self._by_rfc822_id[rfc822_id] = message_id
            self._record("messageAdded", stored)
            return stored

    def _record(self, kind: str, message: StoredMessage, changed: tuple[str, ...] = ()) -> None:
        self.history.append(
            HistoryRecord(
                self.history_id,
                kind,
                message.id,
                message.thread_id,
                frozenset(message.label_ids),
                changed,
            )
        )

    def modify(self, message_id: str, add: Iterable[str], remove: Iterable[str]) -> StoredMessage:
        """Change labels; a change that changes nothing records no history (as in Gmail)."""
        add, remove = list(add), list(remove)
        with self.lock:
            self._check_labels([*add, *remove])
            message = self.get(message_id)
            added = tuple(label for label in add if label not in message.label_ids)
            removed = tuple(label for label in remove if label in message.label_ids)
            message.label_ids |= set(added)
            message.label_ids -= set(removed)
            if added:
                self.history_id += 1
                message.history_id = self.history_id
                self._record("labelAdded", message, added)
            if removed:
                self.history_id += 1
                message.history_id = self.history_id
                self._record("labelRemoved", message, removed)
            return message

    def delete(self, message_id: str) -> None:
        with self.lock:
            message = self.get(message_id)
            del self.messages[message_id]
            self._threads[message.thread_id].discard(message_id)
            self.history_id += 1
            self._record("messageDeleted", message)

    def search(
        self, query: str | None, label_ids: Iterable[str], include_spam_trash: bool
    ) -> list[StoredMessage]:
        """Matching messages, newest first (the order messages.list returns)."""
        predicate = compile_query(query)
        required = set(label_ids)
        with self.lock:
            context = SearchContext(
                owner=self.address,
                label_names={label.id: label.name for label in self.labels.values()},
                now=datetime.now(UTC),
            )
            hits = [
                m
                for m in self.messages.values()
                if required <= m.label_ids
                and (include_spam_trash or not m.label_ids & {"SPAM", "TRASH"})
                and predicate(m, context)
            ]
        return sorted(hits, key=lambda m: (m.internal_date, m.id), reverse=True)

    # --- history ---------------------------------------------------------------------------

    def expire_history(self) -> None:
        """Forget every history record so far, as Gmail does after a week (or less)."""
        with self.lock:
            self.history_floor = self.history_id
            self.history.clear()

    def changes_since(
        self, start: int, kinds: set[str] | None, label_id: str | None
    ) -> Iterator[HistoryRecord]:
        if start < self.history_floor:
            raise MailboxError(404, "Requested entity was not found.", "notFound")
        for record in list(self.history):
            if record.id <= start:
                continue
            if kinds and record.kind not in kinds:
                continue
            if label_id and label_id not in record.labels_at and label_id not in record.changed:
                continue
            yield record

    # --- drafts ----------------------------------------------------------------------------

    def create_draft(self, raw: bytes, thread_id: str | None) -> tuple[Draft, StoredMessage]:
        with self.lock:
            message = self.add(raw, ["DRAFT"], thread_id=thread_id)
            draft = Draft(f"r{self._next_draft}", message.id)
            self._next_draft += 1
            self.drafts[draft.id] = draft
            return draft, message

    def draft(self, draft_id: str) -> Draft:
        found = self.drafts.get(draft_id)
        if found is None:
            raise MailboxError(404, "Requested entity was not found.", "notFound")
        return found
