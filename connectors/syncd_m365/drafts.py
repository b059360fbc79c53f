"""Acknowledgement drafts in the reply's conversation: the M365 shard's Sink.

A draft is made with `createReply` on the prospect's message, so Outlook threads it, quotes
the original and fills in the recipient and "RE:" subject. The touch carries the Graph id of
the reply (`reply_id`, read with it), so a draft is one createReply call; touches stored
before it was carried name only the conversation (`thread_id`) and the reply's Message-ID
(`in_reply_to`), and one batched listing finds the Graph message behind those. Each draft
carries the internet message header `x-syncd-key: <touch key>`: createReply is not
idempotent, so an in-doubt write is reconciled by listing the drafts folder with that
header (`find`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import structlog

from syncd.inbox import send_drafts, write_drafts
from syncd.model import Channel, ProspectRef, TouchSpec, WriteKind, WriteResult, WriteStatus
from syncd_m365.client import BatchAnswer, GraphClient, quote_odata
from syncd_m365.settings import M365Settings

log = structlog.get_logger(__name__)

KEY_HEADER = "x-syncd-key"


class M365DraftSink:
    supports = frozenset({WriteKind.DRAFT})
    idempotent = False
    find_grace_s = 5.0  # a draft is listed as soon as it exists

    def __init__(self, client: GraphClient, settings: M365Settings):
        self._client = client
        self._settings = settings
        self.batch_size = settings.batch_size
        self.call_timeout_s = settings.timeout_s  # the bound the engine's lease check uses

    @property
    def _user(self) -> str:
        return f"/users/{self._settings.mailbox}"

    def write(self, batch: Sequence[TouchSpec]) -> list[WriteResult]:
        return write_drafts(batch, self._create)

    def _create(self, drafts: list[tuple[int, TouchSpec]]) -> dict[int, WriteResult]:
        results: dict[int, WriteResult] = {}
        parents = self._parents([s for _, s in drafts if s.thread_id and not s.reply_id])
        calls: list[tuple[str, dict[str, Any]]] = []
        for index, spec in drafts:
            message = {
                "body": {"contentType": "text", "content": spec.body},
                "internetMessageHeaders": [{"name": KEY_HEADER, "value": spec.key}],
            }
            if spec.thread_id is None:
                request = {
                    "method": "POST",
                    "url": f"{self._user}/messages",
                    "body": {
                        **message,
                        "subject": spec.subject,
                        "toRecipients": [{"emailAddress": {"address": spec.to_email}}],
                    },
                }
            else:
                parent = spec.reply_id or parents.get(spec.key)
                if parent is None:
                    results[index] = WriteResult(
                        spec.key, WriteStatus.FAILED, error="thread_not_found"
                    )
                    continue
                request = {
                    "method": "POST",
                    "url": f"{self._user}/messages/{parent}/createReply",
                    "body": {"message": message},
                }
            request["headers"] = {"Content-Type": "application/json"}
            calls.append((str(index), request))
        sent = [int(key) for key, _ in calls]
        send = partial(self._client.batch, calls, "messages.createReply", write=True)
        results.update(send_drafts(dict(drafts), sent, send, _result, "m365"))
        return results

    def _parents(self, specs: list[TouchSpec]) -> dict[str, str]:
        """Touch key -> the Graph id of the message replied to (that Message-ID in the
        conversation, else the conversation's latest inbound one); absent when gone."""
        if not specs:
            return {}
        conversations = sorted({str(s.thread_id) for s in specs})
        calls = [
            (
                str(n),
                {
                    "method": "GET",
                    "url": f"{self._user}/mailFolders/inbox/messages?$filter=conversationId eq "
                    f"'{quote_odata(cid)}'&$select=id,internetMessageId,receivedDateTime"
                    "&$top=50",
                },
            )
            for n, cid in enumerate(conversations)
        ]
        answers = self._client.batch(calls, "inbox.list")
        listed: dict[str, list[dict[str, Any]]] = {}
        for n, cid in enumerate(conversations):
            answer = answers.get(str(n))
            if answer is not None and answer.ok:
                listed[cid] = list((answer.body or {}).get("value") or [])
        parents: dict[str, str] = {}
        for spec in specs:
            messages = listed.get(str(spec.thread_id)) or []
            if not messages:
                continue
            exact = [
                m
                for m in messages
                if spec.in_reply_to and m.get("internetMessageId") == spec.in_reply_to
            ]
            chosen = (
                exact[0]
                if exact
                else max(messages, key=lambda m: str(m.get("receivedDateTime") or ""))
            )
            parents[spec.key] = str(chosen["id"])
        return parents

    def find(self, keys: Sequence[str]) -> dict[str, str]:
        """Draft ids of these keys, read back from the drafts' x-syncd-key headers."""
        wanted = set(keys)
        if not wanted:
            return {}
        found: dict[str, str] = {}
        for page in self._client.pages(
            f"{self._settings.user_path}/mailFolders/drafts/messages",
            "drafts.list",
            params={"$select": "id,internetMessageHeaders", "$top": "100"},
        ):
            for draft in page.get("value") or []:
                for header in draft.get("internetMessageHeaders") or []:
                    if str(header.get("name", "")).lower() == KEY_HEADER:
                        key = str(header.get("value", ""))
                        if key in wanted:
                            found[key] = str(draft["id"])
        log.info("m365.drafts_found", wanted=len(wanted), found=len(found))
        return found

    def suppress(self, ref: ProspectRef, channels: frozenset[Channel]) -> None:
        """A mailbox keeps no opt-out flags: the CRM's sink and syncd's own list do."""


def _result(spec: TouchSpec, answer: BatchAnswer | None) -> WriteResult:
    if answer is None:
        return WriteResult(spec.key, WriteStatus.IN_DOUBT, error="no_answer")
    if answer.ok and isinstance(answer.body, dict) and "id" in answer.body:
        return WriteResult(spec.key, WriteStatus.OK, remote_id=str(answer.body["id"]))
    if answer.status == 429:
        return WriteResult(
            spec.key, WriteStatus.RETRY, error="throttled", retry_after_s=answer.retry_after_s
        )
    if answer.status >= 500 or answer.ok:
        return WriteResult(spec.key, WriteStatus.IN_DOUBT, error=f"http_{answer.status}")
    if answer.status == 404:
        return WriteResult(spec.key, WriteStatus.FAILED, error="thread_not_found")
    return WriteResult(spec.key, WriteStatus.FAILED, error=f"http_{answer.status}")
