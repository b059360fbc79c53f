"""A Gmail message as the core's vendor-neutral `InboxReply` (syncd.inbox does the rest)."""

from __future__ import annotations

from syncd.inbox import InboxReply
from syncd.model import RejectionEvent
from syncd_gmail.mime import GmailMessage

EVENT_PREFIX = "gm:msg:"


def event_id(message_id: str) -> str:
    return EVENT_PREFIX + message_id


def message_id_of(event: RejectionEvent) -> str | None:
    """The Gmail message id behind one of this connector's events."""
    if event.event_id.startswith(EVENT_PREFIX):
        return event.event_id[len(EVENT_PREFIX) :]
    return None


def inbox_reply(message: GmailMessage, position: str) -> InboxReply:
    name, address = message.sender
    return InboxReply(
        event_id=event_id(message.id),
        message_id=message.id,
        thread_id=message.thread_id,
        rfc822_id=message.rfc822_id,
        references=message.headers.get("References", ""),
        sender_name=name,
        sender=address,
        subject=message.subject,
        date=message.date,
        received=message.internal_date,
        headers=message.headers,
        text=message.text,
        html=message.html,
        position=position,
    )
