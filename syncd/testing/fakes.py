"""In-process fakes of the three connector roles, for engine tests and the contract suite.

They keep the same promises a real connector must (closed-start cursor with boundary ids,
one result per write in order, idempotency per key when asked) and can be told to fail the
way vendors do, including "the server applied the write but the response was lost".
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from syncd.connectors import FatalSyncError, RetriableError
from syncd.model import (
    AccountRef,
    Channel,
    Cursor,
    Page,
    Prospect,
    ProspectRef,
    RejectionEvent,
    TaskStatus,
    TouchSpec,
    WriteKind,
    WriteResult,
    WriteStatus,
)
from syncd.testing.demo_data import demo_world


def read_pages(
    events: Iterable[RejectionEvent], cursor: Cursor | None, until: datetime, page_size: int
) -> Iterator[Page]:
    """The cursor contract over any ordered list of events: what a Source must do."""
    ordered = sorted(events, key=lambda e: (e.position, e.event_id))
    limit = until.isoformat()
    start = cursor.value if cursor else ""
    skip = cursor.boundary_ids if cursor else frozenset()
    todo = [
        e
        for e in ordered
        if start <= e.position <= limit and not (e.position == start and e.event_id in skip)
    ]
    boundary_value = start
    boundary: set[str] = set(skip)
    for i in range(0, len(todo), page_size):
        chunk = todo[i : i + page_size]
        last = chunk[-1].position
        if last != boundary_value:
            boundary_value, boundary = last, set()
        boundary |= {e.event_id for e in chunk if e.position == last}
        yield Page(chunk, Cursor(last, frozenset(boundary)))


class FakeSource:
    def __init__(self, events: Iterable[RejectionEvent] = (), page_size: int = 50):
        self.events = list(events)
        self.page_size = page_size
        self.reads: list[Cursor | None] = []
        self.acknowledged: list[str] = []

    def read(self, cursor: Cursor | None, until: datetime) -> Iterator[Page]:
        self.reads.append(cursor)
        return read_pages(self.events, cursor, until, self.page_size)

    def acknowledge(self, events: Sequence[RejectionEvent]) -> None:
        self.acknowledged.extend(e.event_id for e in events)


class FakeDirectory:
    def __init__(self, prospects: Iterable[Prospect] = (), active: Iterable[ProspectRef] = ()):
        self.people = {p.ref: p for p in prospects}
        self.active_refs = set(active)
        self.calls: Counter[str] = Counter()

    def prospects(self, refs: Sequence[ProspectRef]) -> dict[ProspectRef, Prospect]:
        self.calls["prospects"] += 1
        return {r: self.people[r] for r in refs if r in self.people}

    def colleagues(self, accounts: Sequence[AccountRef]) -> dict[AccountRef, list[Prospect]]:
        self.calls["colleagues"] += 1
        wanted = set(accounts)
        out: dict[AccountRef, list[Prospect]] = {a: [] for a in accounts}
        for p in self.people.values():
            if p.account is not None and p.account.ref in wanted:
                out[p.account.ref].append(p)
        return out

    def active(self, refs: Sequence[ProspectRef]) -> set[ProspectRef]:
        self.calls["active"] += 1
        return {r for r in refs if r in self.active_refs}

    def find_by_email(self, emails: Sequence[str]) -> dict[str, Prospect]:
        self.calls["find_by_email"] += 1
        index = {p.email.lower(): p for p in self.people.values() if p.email}
        return {e.lower(): index[e.lower()] for e in emails if e.lower() in index}


@dataclass
class Sleeps:
    """A sleep that records the waits instead of taking them, and a clock they move: a
    connector's throttle and back-off run on it at once, and tests read what they asked."""

    waits: list[float] = field(default_factory=list)
    now: float = 0.0

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += max(0.0, seconds)

    def clock(self) -> float:
        return self.now


def demo_directory(crm: str) -> FakeDirectory:
    """The demo world's people of one CRM as its Directory would return them: what a mailbox
    sandbox's seeded replies are matched against."""
    return FakeDirectory(
        Prospect(ProspectRef(crm, "contact", p.id), email=p.email, name=p.first_name)
        for p in demo_world().for_crm(crm).people
    )


@dataclass
class SinkFault:
    kind: str  # rate_limit | server_error | lost_response | auth_revoked | reject
    times: int = 1


@dataclass
class FakeSink:
    """Records every applied write in `.writes` (duplicates included, to count them)."""

    idempotent: bool = False
    find_grace_s: float = 0.0
    batch_size: int = 50
    call_timeout_s: float = 30.0
    supports: frozenset[WriteKind] = frozenset(WriteKind)
    writes: list[TouchSpec] = field(default_factory=list)
    suppressed: list[tuple[ProspectRef, frozenset[Channel]]] = field(default_factory=list)
    faults: list[SinkFault] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    completed: set[str] = field(default_factory=set)  # keys of tasks a rep completed
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _remote: dict[str, str] = field(default_factory=dict)

    def fail(self, kind: str, times: int = 1) -> None:
        self.faults.append(SinkFault(kind, times))

    def _fault(self) -> str | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.times -= 1
        if fault.times <= 0:
            self.faults.pop(0)
        return fault.kind

    def write(self, batch: Sequence[TouchSpec]) -> list[WriteResult]:
        self.calls["write"] += 1
        fault = self._fault()
        if fault == "rate_limit":
            raise RetriableError("429", retry_after_s=0.0)
        if fault == "server_error":
            raise RetriableError("503", in_doubt=True)
        if fault == "auth_revoked":
            raise FatalSyncError("invalid_grant")
        results = []
        for spec in batch:
            if fault == "reject":
                results.append(WriteResult(spec.key, WriteStatus.FAILED, error="INVALID_FIELD"))
                continue
            results.append(WriteResult(spec.key, WriteStatus.OK, self._apply(spec)))
        if fault == "lost_response":
            raise RetriableError("connection reset after send", in_doubt=True)
        return results

    def _apply(self, spec: TouchSpec) -> str:
        if spec.write is WriteKind.OPT_OUT:
            self.suppressed.append((spec.prospect, spec.opt_out_channels))
        if self.idempotent and spec.key in self._remote:
            return self._remote[spec.key]
        remote_id = f"T{next(self._ids):06d}"
        self._remote[spec.key] = remote_id
        self.writes.append(spec)
        return remote_id

    def find(self, keys: Sequence[str]) -> dict[str, str]:
        self.calls["find"] += 1
        return {k: self._remote[k] for k in keys if k in self._remote}

    def suppress(self, ref: ProspectRef, channels: frozenset[Channel]) -> None:
        self.suppressed.append((ref, channels))

    def task_status(self, keys: Sequence[str]) -> dict[str, TaskStatus]:
        self.calls["task_status"] += 1
        return {
            k: TaskStatus.COMPLETED if k in self.completed else TaskStatus.OPEN
            for k in keys
            if k in self._remote
        }

    def complete(self, key: str) -> None:
        """What a rep does in the CRM: mark the task written under `key` done."""
        if key not in self._remote:
            raise KeyError(f"no task was written under {key}")
        self.completed.add(key)

    def keys(self) -> list[str]:
        return [w.key for w in self.writes]
