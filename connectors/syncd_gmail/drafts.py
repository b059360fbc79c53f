"""Acknowledgement drafts in the reply's thread: the Gmail shard's Sink.

Gmail threads a draft only when it carries the thread id, In-Reply-To / References naming a
message of that thread, and the thread's subject (with "Re:"). The touch's own subject is the
policy's wording; the reply's Subject, Message-ID and References were read with the reply and
travel in the touch (`thread_subject`, `in_reply_to`, `references`), so a draft costs one
drafts.create (10 units) and no threads.get (another 10). Touches stored before those facts
were carried read them from the thread: one batched threads.get for those only. Each draft
carries `X-Syncd-Key: <touch key>`:
drafts.create is not idempotent, so an in-doubt write is reconciled by listing the drafts and
reading that header back (`find`).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import partial
from typing import Any

import structlog
from googleapiclient.errors import HttpError

from syncd.inbox import send_drafts, write_drafts
from syncd.model import Channel, ProspectRef, TouchSpec, WriteKind, WriteResult, WriteStatus
from syncd_gmail.client import GmailClient
from syncd_gmail.errors import error_code, translate, write_status
from syncd_gmail.mime import compose_reply, header_value, references_for
from syncd_gmail.settings import GmailSettings

log = structlog.get_logger(__name__)

KEY_HEADER = "X-Syncd-Key"
_THREAD_HEADERS = ["Subject", "Message-ID", "References"]


class GmailDraftSink:
    supports = frozenset({WriteKind.DRAFT})
    idempotent = False
    find_grace_s = 5.0  # drafts are listed as soon as they exist; no search index involved

    def __init__(self, client: GmailClient, settings: GmailSettings):
        self._client = client
        self._settings = settings
        # a batch of drafts.create is sent as one batch request: within a second's quota share
        self.batch_size = min(settings.batch_size, client.batch_limit("drafts.create"))
        self.call_timeout_s = settings.timeout_s  # the bound the engine's lease check uses

    # --- write ---------------------------------------------------------------------------------

    def write(self, batch: Sequence[TouchSpec]) -> list[WriteResult]:
        return write_drafts(batch, self._create)

    def _create(self, drafts: list[tuple[int, TouchSpec]]) -> dict[int, WriteResult]:
        results: dict[int, WriteResult] = {}
        threads = self._threads({s.thread_id for _, s in drafts if s.thread_id and not _known(s)})
        calls: list[tuple[str, Any]] = []
        for index, spec in drafts:
            body = self._draft_body(spec, threads.get(spec.thread_id) if spec.thread_id else None)
            if body is None:
                results[index] = WriteResult(spec.key, WriteStatus.FAILED, error="thread_not_found")
                continue
            calls.append((str(index), self._client.drafts.create(userId="me", body=body)))
        sent = [int(key) for key, _ in calls]
        send = partial(self._client.batch, calls, "drafts.create", write=True)
        results.update(send_drafts(dict(drafts), sent, send, self._result, "gmail"))
        return results

    def _result(self, spec: TouchSpec, answer: Any) -> WriteResult:
        if isinstance(answer, HttpError):
            if answer.status_code == 401:  # still refused after the batch's own refresh
                raise translate(answer, "drafts.create", write=True) from answer
            status, wait = write_status(answer)
            return WriteResult(spec.key, status, error=error_code(answer), retry_after_s=wait)
        if not isinstance(answer, dict) or "id" not in answer:
            return WriteResult(spec.key, WriteStatus.IN_DOUBT, error="no_answer")
        return WriteResult(spec.key, WriteStatus.OK, remote_id=str(answer["id"]))

    def _threads(self, thread_ids: set[str]) -> dict[str, dict[str, Any]]:
        """Thread id -> threads.get(format=metadata) answer; deleted threads are absent."""
        if not thread_ids:
            return {}
        calls = [
            (
                tid,
                self._client.threads.get(
                    userId="me", id=tid, format="metadata", metadataHeaders=_THREAD_HEADERS
                ),
            )
            for tid in sorted(thread_ids)
        ]
        return {k: v for k, v in self._client.fetch(calls, "threads.get").items() if v}

    def _draft_body(self, spec: TouchSpec, thread: dict[str, Any] | None) -> dict[str, Any] | None:
        assert spec.to_email is not None
        if spec.thread_id is None:
            raw = compose_reply(
                sender=self._settings.mailbox,
                to=spec.to_email,
                subject=spec.subject,
                body=spec.body,
                in_reply_to="",
                references="",
                headers={KEY_HEADER: spec.key},
                as_reply=False,
            )
            return {"message": {"raw": _b64(raw)}}
        if _known(spec):
            assert spec.in_reply_to is not None
            raw = compose_reply(
                sender=self._settings.mailbox,
                to=spec.to_email,
                subject=spec.thread_subject or spec.subject,
                body=spec.body,
                in_reply_to=spec.in_reply_to,
                references=references_for(spec.references or "", spec.in_reply_to),
                headers={KEY_HEADER: spec.key},
            )
            return {"message": {"raw": _b64(raw), "threadId": spec.thread_id}}
        if thread is None:
            return None
        parent = _parent(thread, spec.in_reply_to)
        parent_id = spec.in_reply_to or header_value(parent, "Message-ID") or ""
        parent_refs = header_value(parent, "References") or spec.references or ""
        raw = compose_reply(
            sender=self._settings.mailbox,
            to=spec.to_email,
            subject=header_value(parent, "Subject") or spec.subject,
            body=spec.body,
            in_reply_to=parent_id,
            references=references_for(parent_refs, parent_id),
            headers={KEY_HEADER: spec.key},
        )
        return {"message": {"raw": _b64(raw), "threadId": spec.thread_id}}

    # --- reconcile -----------------------------------------------------------------------------

    def find(self, keys: Sequence[str]) -> dict[str, str]:
        """Draft ids of these keys, read back from the drafts' X-Syncd-Key headers."""
        wanted = set(keys)
        if not wanted:
            return {}
        drafts: dict[str, str] = {}  # message id -> draft id
        token: str | None = None
        while True:
            answer = self._client.read(
                self._client.drafts.list(userId="me", maxResults=500, pageToken=token),
                "drafts.list",
            )
            for draft in answer.get("drafts") or []:
                drafts[str(draft["message"]["id"])] = str(draft["id"])
            token = answer.get("nextPageToken")
            if not token:
                break
        calls = [
            (
                mid,
                self._client.messages.get(
                    userId="me", id=mid, format="metadata", metadataHeaders=[KEY_HEADER]
                ),
            )
            for mid in sorted(drafts)
        ]
        found: dict[str, str] = {}
        for mid, message in self._client.fetch(calls, "messages.get").items():
            key = header_value(message, KEY_HEADER) if message else None
            if key in wanted:
                found[key] = drafts[mid]
        log.info("gmail.drafts_found", wanted=len(wanted), found=len(found))
        return found

    def suppress(self, ref: ProspectRef, channels: frozenset[Channel]) -> None:
        """A mailbox keeps no opt-out flags: the CRM's sink and syncd's own list do."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _known(spec: TouchSpec) -> bool:
    """Whether the touch carries the reply's facts a threaded draft needs (touches stored
    before they were carried lack the subject)."""
    return bool(spec.thread_id and spec.in_reply_to) and spec.thread_subject is not None


def _parent(thread: dict[str, Any], message_id: str | None) -> dict[str, Any]:
    """The message replied to: the one with this Message-ID, else the thread's latest."""
    messages: list[dict[str, Any]] = thread.get("messages") or [{}]
    for message in messages:
        if message_id and header_value(message, "Message-ID") == message_id:
            return message
    return messages[-1]
