"""What every mailbox connector does with a prospect's reply once its vendor has decoded it.

A mailbox connector (Gmail, Microsoft 365) turns its vendor's message into an `InboxReply`;
from there the steps are the same for every vendor and live here: match the senders to the
CRM shard's people in one directory call, classify the text with `syncd.replies`, and build
the RejectionEvent about the CRM's own record (its ref belongs to the CRM shard, so the
policy, the suppression list and the CRM's sink all speak about the same person).

A sender the CRM does not know is dropped, or (unknown_senders = "create_lead") reported as a
new lead whose ref is `<crm shard>:lead:new:<sha256 of the address>` with the address in
Prospect.email: the core decides whether and how to create it.

The rest of what both connectors would otherwise each spell out lives here too: finding the
CRM peer, the settings checks of a mailbox and an endpoint, and sending a batch of drafts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from typing import Literal, TypeVar

import structlog

from syncd.connectors import (
    ENTRY_POINT_GROUP,
    ConfigError,
    Directory,
    RetriableError,
    ShardContext,
)
from syncd.model import (
    Intent,
    Prospect,
    ProspectRef,
    ReasonKind,
    RejectionEvent,
    SourceKind,
    TouchSpec,
    WriteKind,
    WriteResult,
    WriteStatus,
    id_hash,
)
from syncd.replies import Classification, ReplyMessage, classify, to_reply_info
from syncd.replies.config import RepliesConfig

log = structlog.get_logger(__name__)

A = TypeVar("A")

NEW_LEAD_PREFIX = "new:"
_REASONS = {
    Intent.NOT_NOW: ReasonKind.NOT_NOW,
    Intent.COMPETITOR: ReasonKind.COMPETITOR,
    Intent.NOT_INTERESTED: ReasonKind.NOT_INTERESTED,
}


@dataclass(frozen=True)
class InboxReply:
    """One inbound message, decoded by its connector into vendor-neutral values."""

    event_id: str  # the connector's event id for this message (vendor prefix + message id)
    message_id: str  # the vendor's message id (logs carry it, never the address)
    thread_id: str  # the vendor's thread / conversation id, where drafts go
    rfc822_id: str  # Message-ID header
    references: str  # References header ("" when unknown)
    sender_name: str
    sender: str  # lower-cased address
    subject: str
    date: datetime | None  # the Date header, parsed
    received: datetime  # when the mailbox received it (the event's occurred_at)
    headers: Mapping[str, str]
    text: str
    html: str | None
    position: str  # the source's cursor position for this message


def new_lead(crm_shard: str, name: str, address: str) -> Prospect:
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


def quote(text: str, limit: int) -> str | None:
    trimmed = " ".join(text.split())
    if not trimmed or limit == 0:
        return None
    return trimmed if len(trimmed) <= limit else trimmed[: limit - 1].rstrip() + "…"


def reply_message(reply: InboxReply) -> ReplyMessage:
    sender = f"{reply.sender_name} <{reply.sender}>" if reply.sender_name else reply.sender
    return ReplyMessage(
        id=reply.message_id,
        date=reply.date,
        sender=reply.headers.get("From", sender),
        subject=reply.subject,
        headers=reply.headers,
        body=reply.text,
        html=reply.html,
    )


def rejection_event(
    reply: InboxReply, classification: Classification, prospect: Prospect, *, quote_chars: int
) -> RejectionEvent:
    info = to_reply_info(
        classification,
        message_id=reply.rfc822_id,
        thread_id=reply.thread_id,
        subject=reply.subject,
        references=reply.references,
        mailbox_id=reply.message_id,
    )
    return RejectionEvent(
        event_id=reply.event_id,
        source=SourceKind.REPLY,
        occurred_at=reply.received,
        prospect=prospect,
        position=reply.position,
        reason_raw=f"reply:{classification.intent.value}",
        reason=reason_for(classification),
        competitor=classification.competitor,
        stated_date=classification.followup_after,
        quote=quote(classification.text, quote_chars),
        reply=info,
    )


@dataclass
class ReplyEvents:
    """Matches, classifies and turns a mailbox's replies into events (one lookup a page)."""

    directory: Directory
    crm_shard: str
    replies: RepliesConfig | None
    unknown_senders: Literal["ignore", "create_lead"]
    quote_chars: int
    log_prefix: str  # "gmail" / "m365": the log event names of the connector

    def events(self, replies: Sequence[InboxReply]) -> list[RejectionEvent]:
        if not replies:
            return []
        senders = sorted({r.sender for r in replies})
        known = {k.lower(): p for k, p in self.directory.find_by_email(senders).items()}
        events: list[RejectionEvent] = []
        for reply in replies:
            prospect = known.get(reply.sender) or self._unknown(reply)
            if prospect is None:
                continue
            classification = self._classify(reply)
            if classification is None:
                continue
            events.append(
                rejection_event(reply, classification, prospect, quote_chars=self.quote_chars)
            )
        log.info(f"{self.log_prefix}.page", replies=len(replies), events=len(events))
        return events

    def _unknown(self, reply: InboxReply) -> Prospect | None:
        if self.unknown_senders == "create_lead":
            return new_lead(self.crm_shard, reply.sender_name, reply.sender)
        log.info(
            f"{self.log_prefix}.unknown_sender",
            message_id=reply.message_id,
            sender=id_hash(reply.sender),
        )
        return None

    def _classify(self, reply: InboxReply) -> Classification | None:
        try:
            return classify(reply_message(reply), self.replies)
        except Exception as exc:  # one unreadable message must not stall the mailbox
            log.error(
                f"{self.log_prefix}.classify_failed",
                message_id=reply.message_id,
                error=type(exc).__name__,
            )
            return None


def write_drafts(
    batch: Sequence[TouchSpec],
    create: Callable[[list[tuple[int, TouchSpec]]], dict[int, WriteResult]],
) -> list[WriteResult]:
    """A mailbox sink's `write`: only drafts to a known recipient go to the vendor (`create`,
    given their batch positions); anything else fails at once. Results keep the batch order."""
    results: dict[int, WriteResult] = {}
    drafts: list[tuple[int, TouchSpec]] = []
    for index, spec in enumerate(batch):
        if spec.write is not WriteKind.DRAFT:
            results[index] = WriteResult(spec.key, WriteStatus.FAILED, error="unsupported_write")
        elif not spec.to_email:
            results[index] = WriteResult(spec.key, WriteStatus.FAILED, error="no_recipient")
        else:
            drafts.append((index, spec))
    if drafts:
        results.update(create(drafts))
    return [results[i] for i in range(len(batch))]


def send_drafts(
    specs: Mapping[int, TouchSpec],
    sent: Sequence[int],
    batch: Callable[[], Mapping[str, A]],
    result: Callable[[TouchSpec, A | None], WriteResult],
    log_prefix: str,
) -> dict[int, WriteResult]:
    """Send the drafts at batch positions `sent` in one vendor batch keyed by `str(position)`
    and read each answer with `result`; a batch left unanswered as a whole gives every draft
    in it the same retry or in-doubt status."""
    if not sent:
        return {}
    results: dict[int, WriteResult] = {}
    try:
        answers = batch()
    except RetriableError as exc:
        status = WriteStatus.IN_DOUBT if exc.in_doubt else WriteStatus.RETRY
        log.warning(f"{log_prefix}.drafts_unanswered", drafts=len(sent), status=status.value)
        for index in sent:
            results[index] = WriteResult(
                specs[index].key,
                status,
                error=type(exc).__name__,
                retry_after_s=exc.retry_after_s,
            )
        return results
    for index in sent:
        results[index] = result(specs[index], answers.get(str(index)))
    written = sum(r.status is WriteStatus.OK for r in results.values())
    log.info(f"{log_prefix}.drafts_written", drafts=len(sent), ok=written)
    return results


def crm_peer(ctx: ShardContext, example: str) -> tuple[Directory, str]:
    """The CRM shard's directory a mailbox shard matches senders against, and its own
    name (refs of new leads belong to it); `example` names a CRM type for the error."""
    crm = ctx.peers.get("crm")
    if crm is None or crm.directory is None:
        raise ConfigError(
            f"shards.{ctx.name}.crm: a mailbox shard needs the CRM shard whose people "
            f'send the replies, e.g. crm = "{example}"'
        )
    name = next((n for n, conn in ctx.peers.items() if conn is crm and n != "crm"), "crm")
    return crm.directory, name


def crm_sandbox_installed(own_type: str) -> bool:
    """Whether another installed connector than `own_type` contributes a CRM (order 0) to
    the sandbox: a mailbox sandbox is only offered when there is one to wire it to."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == own_type:
            continue
        try:
            part = getattr(ep.load(), "sandbox", None)
        except ImportError:
            continue
        if part is not None and getattr(part, "order", None) == 0:
            return True
    return False


def mailbox_address(value: str) -> str:
    """A mailbox shard's `mailbox` key, normalised as senders are (stripped, lower case)."""
    value = value.strip().lower()
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        raise ValueError("must be the mailbox's e-mail address, e.g. rep@corp.example")
    return value


def fake_endpoint(value: str) -> str:
    """A mailbox shard's `base_url` key: empty (the vendor), https, or plain http to a local
    fake only; always ending in "/"."""
    if value and not value.startswith(("http://127.0.0.1", "http://localhost", "https://")):
        raise ValueError("plain http is only for a local fake (http://127.0.0.1:PORT/)")
    return value if not value or value.endswith("/") else value + "/"
