"""Writing follow-ups to HubSpot: tasks, opt-outs and nurture-list enrolments.

Tasks are created 100 a call with their associations inline (task -> contact 204, -> company
192, -> deal 216) and the TouchSpec key in `syncd_key`. Batch create is not idempotent, so a
call that may have been applied (timeout, dropped connection, 5xx) is reported IN_DOUBT and
the engine later looks the keys up with `find`, once search has caught up (`find_grace_s`).

A 207 answer is mapped back input by input through `objectWriteTraceId` (the key): created ->
OK, named in an error -> FAILED, neither -> IN_DOUBT. A 400 refuses the whole call and applies
nothing, so the batch is split in halves to isolate the inputs HubSpot refuses.

Opt-outs and enrolments are idempotent (unsubscribing twice, adding a member twice), so their
failures are RETRY, never in doubt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

import structlog

from syncd.connectors import MalformedAnswer, RetriableError, SkippableRecordError, SyncError
from syncd.model import (
    Channel,
    ProspectRef,
    TaskStatus,
    TouchSpec,
    WriteKind,
    WriteResult,
    WriteStatus,
)
from syncd_hubspot.crm import OBJECT_BATCH, Crm, chunked, in_filter_chunks, unique
from syncd_hubspot.errors import code_of
from syncd_hubspot.schema import PRIORITIES, SYNCD_KEY, TASK_STATUS, TASK_TYPES
from syncd_hubspot.settings import HubSpotSettings
from syncd_hubspot.shapes import results

log = structlog.get_logger(__name__)

TASK_TO_CONTACT = 204
TASK_TO_COMPANY = 192
TASK_TO_DEAL = 216
# Noon UTC keeps the due date on the same calendar day from UTC-11 to UTC+11.
DUE_TIME = time(12, 0)
PERMANENT = WriteStatus.FAILED
TASKS_BATCH = "crm.objects.tasks.batch_api"
PREFERENCES_API = "communication_preferences.status_api"

Indexed = list[tuple[int, TouchSpec]]


def _unsent(exc: SyncError, key: str) -> WriteResult:
    """The result for a write the whole call failed on."""
    if isinstance(exc, RetriableError):
        status = WriteStatus.IN_DOUBT if exc.in_doubt else WriteStatus.RETRY
        return WriteResult(key, status, error=code_of(exc), retry_after_s=exc.retry_after_s)
    return WriteResult(key, PERMANENT, error=code_of(exc))


class HubSpotSink:
    batch_size = OBJECT_BATCH
    idempotent = False

    def __init__(self, crm: Crm, settings: HubSpotSettings, shard: str):
        self._crm = crm
        self._settings = settings
        self._shard = shard
        kinds = {WriteKind.TASK, WriteKind.OPT_OUT}
        if settings.nurture_list_id:
            kinds.add(WriteKind.ENROL)
        self.supports = frozenset(kinds)
        self.find_grace_s = settings.find_grace_s
        self.call_timeout_s = settings.timeout_s  # the bound the engine's lease check uses

    def close(self) -> None:
        """Close the portal connection the source, directory and sink share."""
        self._crm.api.close()

    # --- write ---------------------------------------------------------------------------

    def write(self, batch: Sequence[TouchSpec]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        by_kind: dict[WriteKind, Indexed] = {}
        for index, spec in enumerate(batch):
            if spec.write in self.supports:
                by_kind.setdefault(spec.write, []).append((index, spec))
            else:
                results[index] = WriteResult(spec.key, PERMANENT, error="UNSUPPORTED_WRITE_KIND")
        for chunk in chunked(by_kind.get(WriteKind.TASK, []), OBJECT_BATCH):
            results.update(self._create_tasks(list(chunk)))
        results.update(self._opt_outs(by_kind.get(WriteKind.OPT_OUT, [])))
        results.update(self._enrol(by_kind.get(WriteKind.ENROL, [])))
        return [results[i] for i in range(len(batch))]

    def _task_input(self, spec: TouchSpec) -> dict[str, Any]:
        due = datetime.combine(spec.due, DUE_TIME, UTC)
        properties = {
            "hs_timestamp": str(int(due.timestamp() * 1000)),
            "hs_task_subject": spec.subject,
            "hs_task_body": spec.body,
            "hs_task_status": TASK_STATUS,
            "hs_task_priority": PRIORITIES[spec.priority],
            "hs_task_type": TASK_TYPES[spec.channel],
            SYNCD_KEY: spec.key,
        }
        if spec.owner_id:
            properties["hubspot_owner_id"] = spec.owner_id
        links = []
        if spec.prospect.kind == "contact" and spec.prospect.system == self._shard:
            links.append((spec.prospect.id, TASK_TO_CONTACT))
        if spec.account_id:
            links.append((spec.account_id, TASK_TO_COMPANY))
        if spec.opportunity_id:
            links.append((spec.opportunity_id, TASK_TO_DEAL))
        return {
            "properties": properties,
            "associations": [
                {
                    "to": {"id": to_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t}],
                }
                for to_id, t in links
            ],
            "objectWriteTraceId": spec.key,
        }

    def _create_tasks(self, chunk: Indexed) -> dict[int, WriteResult]:
        try:
            answer, status = self._crm.api.call(
                "tasks.batch_create",
                TASKS_BATCH,
                "create",
                {"inputs": [self._task_input(spec) for _, spec in chunk]},
                write=True,
            )
        except SkippableRecordError as exc:  # 400: nothing applied
            if len(chunk) == 1:
                index, spec = chunk[0]
                log.warning("write.refused", key=spec.key, error=code_of(exc))
                return {index: WriteResult(spec.key, PERMANENT, error=code_of(exc))}
            half = len(chunk) // 2
            return {**self._create_tasks(chunk[:half]), **self._create_tasks(chunk[half:])}
        except RetriableError as exc:
            if exc.in_doubt:
                log.warning("write.in_doubt", what="tasks", count=len(chunk))
            return {index: _unsent(exc, spec.key) for index, spec in chunk}
        try:
            return self._map_created(chunk, answer, status)
        except MalformedAnswer as exc:  # applied, perhaps: look the keys up later
            log.warning("write.in_doubt", what="tasks", count=len(chunk), error=str(exc))
            return {index: _unsent(exc, spec.key) for index, spec in chunk}

    def _map_created(self, chunk: Indexed, answer: Any, status: int) -> dict[int, WriteResult]:
        what = "tasks.batch_create"
        created = {
            str(r.get("objectWriteTraceId")): str(r["id"])
            for r in results(answer, what, write=True)
            if isinstance(r, dict) and isinstance(r.get("id"), str | int)
        }
        errors = answer.get("errors") or []
        if not isinstance(errors, list):
            raise MalformedAnswer(f"{what}: HubSpot's errors is not a list", in_doubt=True)
        refused: dict[str, str] = {}
        for err in errors:
            context = err.get("context") if isinstance(err, dict) else None
            traces = context.get("objectWriteTraceId", []) if isinstance(context, dict) else []
            for trace in traces if isinstance(traces, list) else []:
                refused[str(trace)] = str(err.get("category") or "VALIDATION_ERROR")
        out: dict[int, WriteResult] = {}
        for index, spec in chunk:
            if spec.key in created:
                out[index] = WriteResult(spec.key, WriteStatus.OK, remote_id=created[spec.key])
            elif spec.key in refused:
                out[index] = WriteResult(spec.key, PERMANENT, error=refused[spec.key])
            else:  # a multi-status that names the input nowhere: it may exist
                out[index] = WriteResult(spec.key, WriteStatus.IN_DOUBT, error="UNREPORTED")
        if status == 207:
            log.warning(
                "write.partial",
                created=sum(r.status is WriteStatus.OK for r in out.values()),
                refused=sum(r.status is PERMANENT for r in out.values()),
            )
        return out

    # --- find ----------------------------------------------------------------------------

    def find(self, keys: Sequence[str]) -> dict[str, str]:
        """Remote task ids by key; the oldest task wins if a key was written twice."""
        by_lower = {k.lower(): k for k in keys}
        found: dict[str, str] = {}
        for chunk in in_filter_chunks(by_lower):
            flt = {"propertyName": SYNCD_KEY, "operator": "IN", "values": chunk}
            for task_id, props in self._crm.search_all("tasks", [flt], [SYNCD_KEY]):
                key = by_lower.get(str(props.get(SYNCD_KEY) or "").lower())
                if key is not None and (key not in found or int(task_id) < int(found[key])):
                    found[key] = task_id
        return found

    def task_status(self, keys: Sequence[str]) -> dict[str, TaskStatus]:
        """Whether a rep completed the tasks written under these keys (hs_task_status).

        Search lags behind writes, so a task written moments ago may be absent: it counts as
        not completed yet, which only keeps a review hold open a little longer.
        """
        by_lower = {k.lower(): k for k in keys}
        found: dict[str, tuple[str, TaskStatus]] = {}
        for chunk in in_filter_chunks(by_lower):
            flt = {"propertyName": SYNCD_KEY, "operator": "IN", "values": chunk}
            props_wanted = [SYNCD_KEY, "hs_task_status"]
            for task_id, props in self._crm.search_all("tasks", [flt], props_wanted):
                key = by_lower.get(str(props.get(SYNCD_KEY) or "").lower())
                if key is None or (key in found and int(found[key][0]) < int(task_id)):
                    continue  # the oldest task of a key is the one syncd reports on
                done = props.get("hs_task_status") == "COMPLETED"
                found[key] = (task_id, TaskStatus.COMPLETED if done else TaskStatus.OPEN)
        return {key: state for key, (_, state) in found.items()}

    # --- opt-outs ------------------------------------------------------------------------

    def suppress(self, ref: ProspectRef, channels: frozenset[Channel]) -> None:
        failures = self._apply_opt_outs({ref.id: channels})
        if ref.id in failures:
            raise failures[ref.id]

    def _opt_outs(self, items: Indexed) -> dict[int, WriteResult]:
        wanted: dict[str, frozenset[Channel]] = {}
        for _, spec in items:
            if spec.prospect.system == self._shard and spec.prospect.kind == "contact":
                wanted[spec.prospect.id] = (
                    wanted.get(spec.prospect.id, frozenset()) | spec.opt_out_channels
                )
        failures = self._apply_opt_outs(wanted) if wanted else {}
        out: dict[int, WriteResult] = {}
        for index, spec in items:
            contact = spec.prospect.id
            if contact not in wanted:
                out[index] = WriteResult(spec.key, PERMANENT, error="NOT_A_HUBSPOT_CONTACT")
            elif contact in failures:
                out[index] = _unsent(failures[contact], spec.key)
            else:
                out[index] = WriteResult(spec.key, WriteStatus.OK, remote_id=contact)
        return out

    def _apply_opt_outs(self, wanted: dict[str, frozenset[Channel]]) -> dict[str, SyncError]:
        """Set opt-outs per contact; returns the contacts whose change failed, with why."""
        failures: dict[str, SyncError] = {}
        props = self._settings.channel_optout_properties
        email_ids = [c for c, chans in wanted.items() if Channel.EMAIL in chans]
        try:
            emails = {
                cid: str(p.get("email") or "")
                for cid, p in self._crm.batch_read("contacts", email_ids, ["email"]).items()
            }
        except RetriableError as exc:  # a write() never raises after other writes went out
            failures.update(dict.fromkeys(email_ids, exc))
            emails = {}
        for cid in email_ids:
            if not emails.get(cid):
                continue  # no address: nothing HubSpot could send to
            try:
                self._crm.api.raw(
                    "preferences.unsubscribe_all",
                    PREFERENCES_API,
                    "POST",
                    "/communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all",
                    path_params={"subscriberIdString": emails[cid]},
                    query=[("channel", "EMAIL")],
                    write=True,
                )
            except (RetriableError, SkippableRecordError) as exc:
                failures[cid] = _as_retry(exc)
        updates: dict[str, dict[str, str]] = {}
        for cid, chans in wanted.items():
            for channel in sorted(chans - {Channel.EMAIL}):
                if channel in props:
                    updates.setdefault(cid, {})[props[channel]] = "true"
                else:
                    log.warning("hubspot.optout_unmapped", contact_id=cid, channel=channel.value)
        inputs = [{"id": cid, "properties": p} for cid, p in updates.items()]
        for chunk in chunked(inputs, OBJECT_BATCH):
            try:
                self._crm.api.call(
                    "contacts.batch_update",
                    "crm.contacts.batch_api",
                    "update",
                    {"inputs": list(chunk)},
                    write=True,
                )
            except (RetriableError, SkippableRecordError) as exc:
                for item in chunk:
                    failures[str(item["id"])] = _as_retry(exc)
        return failures

    # --- enrolment -----------------------------------------------------------------------

    def _enrol(self, items: Indexed) -> dict[int, WriteResult]:
        if not items:
            return {}
        contacts = unique(s.prospect.id for _, s in items if s.prospect.system == self._shard)
        try:
            answer, _ = self._crm.api.call(
                "lists.add",
                "crm.lists.memberships_api",
                "add",
                self._settings.nurture_list_id,
                contacts,
                write=True,
            )
        except (RetriableError, SkippableRecordError) as exc:
            return {i: _unsent(_as_retry(exc), s.key) for i, s in items}
        listed = answer.get("recordIdsMissing") if isinstance(answer, dict) else None
        missing = {str(r) for r in listed} if isinstance(listed, list) else set()
        return {
            index: WriteResult(spec.key, PERMANENT, error="OBJECT_NOT_FOUND")
            if spec.prospect.id in missing or spec.prospect.system != self._shard
            else WriteResult(spec.key, WriteStatus.OK, remote_id=spec.prospect.id)
            for index, spec in items
        }


def _as_retry(exc: SyncError) -> SyncError:
    """Idempotent writes: a failure that may have been applied is simply sent again."""
    if isinstance(exc, RetriableError) and exc.in_doubt:
        retry = RetriableError(str(exc), retry_after_s=exc.retry_after_s)
        retry.__cause__ = exc.__cause__
        return retry
    return exc
