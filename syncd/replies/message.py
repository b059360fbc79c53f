"""What the classifier reads and what it answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from syncd.model import Channel, Intent


@dataclass(frozen=True, slots=True)
class ReplyMessage:
    """One inbound e-mail, already decoded by the mailbox connector."""

    id: str
    date: datetime | None  # the message's Date header, parsed (aware)
    sender: str  # "Name <addr>" or bare addr
    subject: str
    headers: Mapping[str, str] = field(hash=False)  # raw headers, looked up case-insensitively
    body: str  # text/plain body ("" if none)
    html: str | None = None  # text/html body when present (HTML-only mails)


@dataclass(frozen=True, slots=True)
class Classification:
    """The intent of a reply and what was extracted from it, with the phrases that decided."""

    intent: Intent
    channels: frozenset[Channel]  # opt_out: the channels asked about; empty otherwise
    return_date: date | None  # out_of_office
    followup_after: date | None  # stated timing, relative to the message date
    referral_email: str | None
    competitor: str | None
    evidence: tuple[str, ...]
    auto_reply: bool
    gatekeeper: bool  # "I'll pass it on", assistants, reception
    hostile: bool  # "no, never": still not_interested, never an opt-out by itself
    language: str | None  # "en" | "de" | "fr" | "es"
    text: str  # the extracted new text (quotes and signature stripped)
    confidence: float = 1.0  # 0..1: how sure the intent is; low values go to a person
    review: bool = False  # a rep must read this reply before any automated touch
    review_reasons: tuple[str, ...] = ()  # why it goes to review (stable ids)
