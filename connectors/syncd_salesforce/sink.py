"""Writes follow-up tasks, opt-out flags and campaign enrolments through sObject Collections.

Tasks are upserted on an external-ID field holding the touch key, 200 a call, so sending one
twice can never duplicate it. An org without that field still works: tasks are then created
with the key in a subject marker (Task.Description is a long text area, which SOQL cannot
filter), `find` looks them up by that marker, and the sink reports itself non-idempotent so
an in-doubt write waits `find_grace_s` and is looked up before it is sent again.
Per-record refusals come back as FAILED results (dead letters) without failing the batch;
a locked row is RETRY.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import structlog

from syncd.connectors import MalformedAnswer
from syncd.model import (
    ACCOUNT_KIND,
    Channel,
    Priority,
    ProspectRef,
    TaskChannel,
    TaskStatus,
    TouchSpec,
    WriteKind,
    WriteResult,
    WriteStatus,
)
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.directory import ID_CHUNK, TASK_MARKER, chunks
from syncd_salesforce.errors import RETRY_CODES, RequestRefused
from syncd_salesforce.profile import OrgFacts
from syncd_salesforce.records import QUEUE_PREFIX, select, soql_in, soql_string
from syncd_salesforce.settings import SalesforceSettings

log = structlog.get_logger(__name__)
BATCH = 200
SUBJECT_MAX = 255
DESCRIPTION_MAX = 32_000
MARKER_KEY_CHARS = 16
FIND_CHUNK = 40
SUBTYPES = {
    TaskChannel.CALL: "Call",
    TaskChannel.EMAIL: "Email",
    TaskChannel.LINKEDIN: "LinkedIn",
    TaskChannel.TODO: "Task",
}
PRIORITIES = {Priority.HIGH: "High", Priority.NORMAL: "Normal", Priority.LOW: "Low"}
FLAGS = {Channel.EMAIL: "HasOptedOutOfEmail", Channel.PHONE: "DoNotCall"}
SOBJECTS = {"contact": "Contact", "lead": "Lead"}


def subject_marker(key: str) -> str:
    return f" {TASK_MARKER}{key[:MARKER_KEY_CHARS]}]"


def key_line(key: str) -> str:
    return f"syncd key: {key}"


def refused_field(answer: dict[str, Any]) -> str | None:
    """The one field a per-record INVALID_FIELD_FOR_INSERT_UPDATE names, if that is the error."""
    if answer.get("success"):
        return None
    errors = answer.get("errors")
    error = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(error, dict):
        return None
    fields = error.get("fields") or []
    if (
        isinstance(fields, list)
        and error.get("statusCode") == "INVALID_FIELD_FOR_INSERT_UPDATE"
        and len(fields) == 1
    ):
        return str(fields[0])
    return None


class SalesforceSink:
    batch_size = BATCH

    def __init__(self, client: SalesforceClient, facts: OrgFacts, settings: SalesforceSettings):
        self._client = client
        self._facts = facts
        self._settings = settings
        kinds = {WriteKind.TASK, WriteKind.OPT_OUT}
        if settings.campaign_id:
            kinds.add(WriteKind.ENROL)
        self.supports = frozenset(kinds)
        self._mode: bool | None = None
        self._grace_s = settings.find_grace_s
        self.call_timeout_s = settings.timeout_s  # the bound the engine's lease check uses

    @property
    def idempotent(self) -> bool:
        """True when Task has the external-ID field (read from the org's describe, once)."""
        if self._mode is not None:
            return self._mode
        key = self._facts.profile().task_key
        return key.exists and key.external_id

    @idempotent.setter
    def idempotent(self, value: bool) -> None:
        """Pin the write mode instead of detecting it (False: create + marker lookup)."""
        self._mode = value

    @property
    def find_grace_s(self) -> float:
        return 0.0 if self.idempotent else self._grace_s

    @find_grace_s.setter
    def find_grace_s(self, value: float) -> None:
        self._grace_s = value

    # --- write ------------------------------------------------------------------------------

    def write(self, batch: Sequence[TouchSpec]) -> list[WriteResult]:
        if len(batch) > BATCH:
            raise ValueError(f"at most {BATCH} touches per write, got {len(batch)}")
        results: dict[int, WriteResult] = {}
        groups: dict[WriteKind, list[int]] = {}
        for i, spec in enumerate(batch):
            groups.setdefault(spec.write, []).append(i)
        writers: dict[WriteKind, Callable[[list[TouchSpec]], list[WriteResult]]] = {
            WriteKind.TASK: self._tasks,
            WriteKind.OPT_OUT: self._opt_outs,
            WriteKind.ENROL: self._enrolments,
        }
        for kind, indexes in groups.items():
            specs = [batch[i] for i in indexes]
            writer = writers.get(kind) if kind in self.supports else None
            if writer is None:
                done = [WriteResult(s.key, WriteStatus.FAILED, error="UNSUPPORTED") for s in specs]
            else:
                done = writer(specs)
            results.update(zip(indexes, done, strict=True))
        ordered = [results[i] for i in range(len(batch))]
        failed = 0
        for result in ordered:
            if result.status is WriteStatus.FAILED:
                failed += 1
                log.warning("write.record_failed", key=result.key, error=result.error)
        log.info(
            "write.batch",
            records=len(batch),
            failed=failed,
            retry=sum(r.status is WriteStatus.RETRY for r in ordered),
        )
        return ordered

    def _collection(
        self, path: str, method: str, records: list[dict[str, Any]], *, resend_safe: bool
    ) -> list[dict[str, Any]]:
        """One sObject Collections call (allOrNone off: each record stands alone).

        A refused call (HTTP 400) fails every record in it; anything transient is raised.
        """
        body = {"allOrNone": False, "records": records}
        answer = self._client.restful(
            path, method=method, json=body, what=f"write:{path}", resend_safe=resend_safe
        )
        if (
            not isinstance(answer, list)
            or len(answer) != len(records)
            or not all(isinstance(a, dict) for a in answer)
        ):
            # Salesforce may have applied it: in doubt (an upsert is simply sent again).
            raise MalformedAnswer(
                f"salesforce: write:{path}: the answer is not one result per record",
                in_doubt=True,
            )
        return answer

    def _outcome(self, key: str, result: dict[str, Any]) -> WriteResult:
        if result.get("success"):
            return WriteResult(key, WriteStatus.OK, remote_id=result.get("id"))
        errors = result.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else {}
        code = str(
            (first.get("statusCode") if isinstance(first, dict) else None) or "UNKNOWN_ERROR"
        )
        if code in RETRY_CODES:
            return WriteResult(key, WriteStatus.RETRY, error=code, retry_after_s=5.0)
        return WriteResult(key, WriteStatus.FAILED, error=code)

    def _guarded(
        self, specs: list[TouchSpec], send: Callable[[], list[WriteResult]]
    ) -> list[WriteResult]:
        try:
            return send()
        except RequestRefused as exc:  # the whole call refused as malformed: dead letters
            return [WriteResult(s.key, WriteStatus.FAILED, error=exc.code) for s in specs]

    # --- tasks ------------------------------------------------------------------------------

    def _task_fields(self, spec: TouchSpec, *, marker: bool) -> dict[str, Any]:
        subject = spec.subject
        description = spec.body
        if marker:
            tail = subject_marker(spec.key)
            subject = subject[: SUBJECT_MAX - len(tail)] + tail
            line = "\n\n" + key_line(spec.key)
            description = description[: DESCRIPTION_MAX - len(line)] + line
        fields: dict[str, Any] = {
            "attributes": {"type": "Task"},
            "Subject": subject[:SUBJECT_MAX],
            "ActivityDate": spec.due.isoformat(),
            "Priority": PRIORITIES[spec.priority],
            "Status": self._settings.task_status,
            "Description": description[:DESCRIPTION_MAX],
            "TaskSubtype": SUBTYPES[spec.channel],
        }
        if not spec.prospect.is_account:  # an account-level plan's task is about nobody yet
            fields["WhoId"] = spec.prospect.id
        if spec.prospect.kind in ("contact", ACCOUNT_KIND):
            what = spec.opportunity_id or spec.account_id
            if what:
                fields["WhatId"] = what
        owner = spec.owner_id
        if owner and owner.startswith(QUEUE_PREFIX):
            owner = self._settings.fallback_owner_id
            if owner is None:
                log.warning("salesforce.queue_owner_without_fallback", key=spec.key)
        if owner:
            fields["OwnerId"] = owner
        return fields

    def _tasks(self, specs: list[TouchSpec]) -> list[WriteResult]:
        if self.idempotent:
            return self._guarded(specs, lambda: self._upsert_tasks(specs))
        return self._guarded(specs, lambda: self._create_tasks(specs))

    def _upsert_tasks(self, specs: list[TouchSpec]) -> list[WriteResult]:
        field = self._facts.profile().task_key.name
        path = f"composite/sobjects/Task/{field}"
        records = []
        for spec in specs:
            record = self._task_fields(spec, marker=False)
            record[field] = spec.key
            records.append(record)
        answers = self._collection(path, "PATCH", records, resend_safe=True)
        results = [self._outcome(s.key, a) for s, a in zip(specs, answers, strict=True)]
        # TaskSubtype can only be set on create: a task that already exists (a re-send) is
        # refused for it, so send those again without it.
        again = [i for i, a in enumerate(answers) if refused_field(a) == "TaskSubtype"]
        if again:
            retry = [{k: v for k, v in records[i].items() if k != "TaskSubtype"} for i in again]
            answers = self._collection(path, "PATCH", retry, resend_safe=True)
            for i, answer in zip(again, answers, strict=True):
                results[i] = self._outcome(specs[i].key, answer)
        return results

    def _create_tasks(self, specs: list[TouchSpec]) -> list[WriteResult]:
        records = [self._task_fields(spec, marker=True) for spec in specs]
        answers = self._collection("composite/sobjects", "POST", records, resend_safe=False)
        return [self._outcome(s.key, a) for s, a in zip(specs, answers, strict=True)]

    # --- opt-outs and enrolments ----------------------------------------------------------------

    def _opt_outs(self, specs: list[TouchSpec]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        records: list[dict[str, Any]] = []
        sent: list[int] = []
        for i, spec in enumerate(specs):
            update = self._flags(spec.prospect, spec.opt_out_channels)
            if update is None:  # nothing Salesforce can record (LinkedIn, postal)
                results[i] = WriteResult(spec.key, WriteStatus.OK, remote_id=spec.prospect.id)
                continue
            records.append(update)
            sent.append(i)
        if records:
            answers = self._guarded_answers(
                [specs[i] for i in sent], "composite/sobjects", "PATCH", records
            )
            for i, answer in zip(sent, answers, strict=True):
                results[i] = answer
        return [results[i] for i in range(len(specs))]

    def _guarded_answers(
        self, specs: list[TouchSpec], path: str, method: str, records: list[dict[str, Any]]
    ) -> list[WriteResult]:
        def send() -> list[WriteResult]:
            answers = self._collection(path, method, records, resend_safe=method == "PATCH")
            return [self._outcome(s.key, a) for s, a in zip(specs, answers, strict=True)]

        return self._guarded(specs, send)

    @staticmethod
    def _flags(ref: ProspectRef, channels: frozenset[Channel]) -> dict[str, Any] | None:
        sobject = SOBJECTS.get(ref.kind)
        flags = {FLAGS[c]: True for c in channels if c in FLAGS}
        if sobject is None or not flags:
            return None
        return {"attributes": {"type": sobject}, "Id": ref.id, **flags}

    def _enrolments(self, specs: list[TouchSpec]) -> list[WriteResult]:
        campaign = self._settings.campaign_id
        assert campaign is not None  # ENROL is only supported with a campaign
        records = []
        for spec in specs:
            person = "LeadId" if spec.prospect.kind == "lead" else "ContactId"
            record: dict[str, Any] = {
                "attributes": {"type": "CampaignMember"},
                "CampaignId": campaign,
                person: spec.prospect.id,
            }
            if self._settings.campaign_member_status:
                record["Status"] = self._settings.campaign_member_status
            records.append(record)
        results = self._guarded_answers(specs, "composite/sobjects", "POST", records)
        members = [i for i, r in enumerate(results) if r.error == "DUPLICATE_VALUE"]
        if members:  # already a member: that is what was asked for
            existing = self._members(campaign, [specs[i].prospect for i in members])
            for i in members:
                results[i] = WriteResult(
                    specs[i].key, WriteStatus.OK, remote_id=existing.get(specs[i].prospect.id)
                )
        return results

    def _members(self, campaign: str, people: list[ProspectRef]) -> dict[str, str]:
        found: dict[str, str] = {}
        for ids in chunks([p.id for p in people], ID_CHUNK):
            soql = select(
                ["Id", "ContactId", "LeadId"],
                "CampaignMember",
                [
                    f"CampaignId = {soql_string(campaign)}",
                    f"(ContactId IN {soql_in(ids)} OR LeadId IN {soql_in(ids)})",
                ],
            )
            for row in self._client.query_all(soql, what="write.enrol_lookup"):
                found[str(row.get("ContactId") or row.get("LeadId"))] = str(row["Id"])
        return found

    # --- find and suppress --------------------------------------------------------------------

    def find(self, keys: Sequence[str]) -> dict[str, str]:
        """Remote task ids of the keys that exist (in-doubt reconciliation)."""
        return {key: str(row["Id"]) for key, row in self._tasks_by_key(keys, [], "write.find")}

    def task_status(self, keys: Sequence[str]) -> dict[str, TaskStatus]:
        """Whether a rep completed the tasks written under these keys (Task.IsClosed)."""
        return {
            key: TaskStatus.COMPLETED if row.get("IsClosed") else TaskStatus.OPEN
            for key, row in self._tasks_by_key(keys, ["IsClosed"], "review.task_status")
        }

    def _tasks_by_key(
        self, keys: Sequence[str], fields: list[str], what: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """(key, task row) of the tasks written under these keys, a few queries per 200."""
        found: list[tuple[str, dict[str, Any]]] = []
        if self.idempotent:
            field = self._facts.profile().task_key.name
            for chunk in chunks(keys, ID_CHUNK):
                soql = select(["Id", field, *fields], "Task", [f"{field} IN {soql_in(chunk)}"])
                found += [(str(row[field]), row) for row in self._client.query_all(soql, what=what)]
            return found
        for chunk in chunks(keys, FIND_CHUNK):
            markers = " OR ".join(
                f"Subject LIKE {soql_string('%' + subject_marker(k).strip())}" for k in chunk
            )
            soql = select(["Id", "Description", *fields], "Task", [f"({markers})"])
            for row in self._client.query_all(soql, what=what):
                description = str(row.get("Description") or "")
                for key in chunk:  # the marker is a prefix: the full key line settles it
                    if description.endswith(key_line(key)):
                        found.append((key, row))
        return found

    def suppress(self, ref: ProspectRef, channels: frozenset[Channel]) -> None:
        update = self._flags(ref, channels)
        if update is None:
            return
        sobject = update.pop("attributes")["type"]
        update.pop("Id")
        self._client.restful(
            f"sobjects/{sobject}/{ref.id}",
            method="PATCH",
            json=update,
            what="write.suppress",
            resend_safe=True,
        )
