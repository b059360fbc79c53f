"""The fake Graph's mailboxes: messages in folders, each change numbered for delta queries."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FOLDERS = ("inbox", "sentitems", "drafts", "deleteditems")


@dataclass
class StoredMessage:
    id: str
    folder: str
    conversation_id: str
    sender_name: str
    sender: str
    to: str
    subject: str
    text: str
    html: str | None
    received: datetime
    internet_message_id: str
    headers: list[dict[str, str]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    is_draft: bool = False
    seq: int = 0  # the mailbox change number of its last change

    def header(self, name: str) -> str:
        for item in self.headers:
            if item["name"].lower() == name.lower():
                return item["value"]
        return ""

    def resource(self, prefer_text: bool) -> dict[str, Any]:
        address = {"emailAddress": {"name": self.sender_name, "address": self.sender}}
        body = (
            {"contentType": "html", "content": self.html}
            if self.html is not None and not (prefer_text and self.text)
            else {"contentType": "text", "content": self.text}
        )
        return {
            "id": self.id,
            "parentFolderId": self.folder,
            "conversationId": self.conversation_id,
            "subject": self.subject,
            "from": address,
            "sender": address,
            "toRecipients": [{"emailAddress": {"name": "", "address": self.to}}],
            "receivedDateTime": self.received.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "internetMessageId": self.internet_message_id,
            "internetMessageHeaders": self.headers,
            "body": body,
            "categories": list(self.categories),
            "isDraft": self.is_draft,
        }


class Mailbox:
    def __init__(self, address: str, first_message_id: int = 1):
        self.address = address
        self.lock = threading.RLock()
        self.messages: dict[str, StoredMessage] = {}
        self.categories: list[dict[str, str]] = []
        self.epoch = 1  # delta tokens of an older epoch answer 410 syncStateNotFound
        self._ids = itertools.count(first_message_id)
        self._seq = itertools.count(1)
        self.seq = 0

    def new_id(self) -> str:
        return f"{next(self._ids):016x}"

    def touch(self, message: StoredMessage) -> None:
        self.seq = next(self._seq)
        message.seq = self.seq

    def add(self, message: StoredMessage) -> StoredMessage:
        with self.lock:
            self.messages[message.id] = message
            self.touch(message)
            return message
