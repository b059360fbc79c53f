"""A classified reply becomes a RejectionEvent about a CRM prospect.

The event's prospect is the CRM's own record (its ref belongs to the CRM shard), so the
policy, the suppression list and the CRM's sink all speak about the same person. A sender the
CRM does not know is dropped, or (unknown_senders = "create_lead") reported as a new lead whose
ref is `<crm shard>:lead:new:<sha256 of the address>` with the address in Prospect.email: the
core decides whether and how to create it.
"""

from __future__ import annotations

import hashlib

from syncd.model import (
    Intent,
    Prospect,
    ProspectRef,
    ReasonKind,
    RejectionEvent,
    SourceKind,
)
from syncd.replies import Classification, ReplyMessage, to_reply_info
from syncd_gmail.mime import GmailMessage

EVENT_PREFIX = "gm:msg:"
NEW_LEAD_PREFIX = "new:"
_REASONS = {
    Intent.NOT_NOW: ReasonKind.NOT_NOW,
    Intent.COMPETITOR: ReasonKind.COMPETITOR,
    Intent.NOT_INTERESTED: ReasonKind.NOT_INTERESTED,
}


def event_id(message_id: str) -> str:
    return EVENT_PREFIX + message_id


def message_id_of(event: RejectionEvent) -> str | None:
    """The Gmail message id behind one of this connector's events."""
    if event.event_id.startswith(EVENT_PREFIX):
        return event.event_id[len(EVENT_PREFIX) :]
    return None


def reply_message(message: GmailMessage) -> ReplyMessage:
    return ReplyMessage(
        id=message.id,
        date=message.date,
        sender=message.headers.get("From", ""),
        subject=message.subject,
        headers=message.headers,
        body=message.text,
        html=message.html,
    )


def new_lead(crm_shard: str, message: GmailMessage) -> Prospect:
    name, address = message.sender
    digest = hashlib.sha256(address.encode()).hexdigest()[:40]
    return Prospect(
        ref=ProspectRef(crm_shard, "lead", NEW_LEAD_PREFIX + digest),
        email=address,
        name=name or None,
    )


def reason_for(classification: Classification) -> ReasonKind | None:
    if classification.intent is Intent.NOT_INTERESTED and classification.hostile:
        return ReasonKind.HOSTILE
    return _REASONS.get(classification.intent)


def _quote(text: str, limit: int) -> str | None:
    trimmed = " ".join(text.split())
    if not trimmed or limit == 0:
        return None
    return trimmed if len(trimmed) <= limit else trimmed[: limit - 1].rstrip() + "…"


def rejection_event(
    message: GmailMessage,
    classification: Classification,
    prospect: Prospect,
    *,
    position: str,
    quote_chars: int,
) -> RejectionEvent:
    reply = to_reply_info(
        classification,
        message_id=message.rfc822_id,
        thread_id=message.thread_id,
        subject=message.subject,
        references=message.headers.get("References", ""),
    )
    return RejectionEvent(
        event_id=event_id(message.id),
        source=SourceKind.REPLY,
        occurred_at=message.internal_date,
        prospect=prospect,
        position=position,
        reason_raw=f"reply:{classification.intent.value}",
        reason=reason_for(classification),
        competitor=classification.competitor,
        stated_date=classification.followup_after,
        quote=_quote(classification.text, quote_chars),
        reply=reply,
    )
