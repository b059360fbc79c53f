"""The `fake` connector type: a file-backed CRM stand-in that survives process kills.

Events come from a JSON-lines file; writes land in a SQLite file that plays the remote
system, recording *every* applied write (so a duplicate is visible) and optionally pausing
after applying a batch — the window in which killing syncd loses the response. `find_lag_s`
plays a search index that sees a write only that long after it was applied. The crash and
chaos tests and the core's own end-to-end tests run the real daemon process against it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from pydantic import BaseModel, ConfigDict, Field

from syncd.connectors import Connector, ShardContext
from syncd.model import (
    Account,
    AccountRef,
    Channel,
    Cursor,
    Owner,
    Page,
    Prospect,
    ProspectRef,
    ReasonKind,
    RejectionEvent,
    SourceKind,
    TaskStatus,
    TouchSpec,
    WriteKind,
    WriteResult,
    WriteStatus,
)
from syncd.secrets import Secret
from syncd.store.codec import decode, encode
from syncd.testing.demo_data import DemoWorld
from syncd.testing.fakes import FakeDirectory, read_pages

log = structlog.get_logger(__name__)


class FakeSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    events_file: str
    remote_db: str
    idempotent: bool = False
    write_delay_s: float = Field(default=0.0, ge=0)
    page_size: int = Field(default=50, ge=1)
    batch_size: int = Field(default=10, ge=1)
    find_grace_s: float = Field(default=0.0, ge=0)
    find_lag_s: float = Field(default=0.0, ge=0)  # the remote index's lag behind a write
    timeout_s: float = Field(default=5.0, gt=0)  # one write call's bound
    api_token: Secret | None = None  # revealed at open, as a real connector's credential is


def write_events(path: Path, events: Iterable[RejectionEvent]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for event in events:
            fh.write(json.dumps(encode(event)) + "\n")


def read_events(path: Path) -> list[RejectionEvent]:
    with path.open(encoding="utf-8") as fh:
        return [decode(RejectionEvent, json.loads(line)) for line in fh if line.strip()]


class FileSource:
    def __init__(self, events: list[RejectionEvent], page_size: int):
        self.events = events
        self.page_size = page_size

    def read(self, cursor: Cursor | None, until: datetime) -> Iterator[Page]:
        return read_pages(self.events, cursor, until, self.page_size)


class FileSink:
    """A remote system in a SQLite file: every applied write is a row."""

    supports = frozenset(WriteKind)

    def __init__(self, settings: FakeSettings):
        self.path = settings.remote_db
        self.idempotent = settings.idempotent
        self.find_grace_s = settings.find_grace_s
        self.batch_size = settings.batch_size
        self.delay = settings.write_delay_s
        self.find_lag_s = settings.find_lag_s
        self.call_timeout_s = settings.timeout_s
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS writes (seq INTEGER PRIMARY KEY "
                "AUTOINCREMENT, key TEXT NOT NULL, kind TEXT NOT NULL, "
                "prospect TEXT NOT NULL, due TEXT NOT NULL, at REAL NOT NULL DEFAULT 0)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS completed (key TEXT PRIMARY KEY)")

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def write(self, batch: Sequence[TouchSpec]) -> list[WriteResult]:
        results = []
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            for spec in batch:
                row = db.execute("SELECT seq FROM writes WHERE key = ?", (spec.key,)).fetchone()
                if row is None or not self.idempotent:
                    cur = db.execute(
                        "INSERT INTO writes (key, kind, prospect, due, at) VALUES (?, ?, ?, ?, ?)",
                        (
                            spec.key,
                            spec.write.value,
                            spec.prospect.key,
                            spec.due.isoformat(),
                            time.time(),
                        ),
                    )
                    row = (cur.lastrowid,)
                results.append(WriteResult(spec.key, WriteStatus.OK, f"R{row[0]}"))
            db.execute("COMMIT")
        finally:
            db.close()
        if self.delay:
            time.sleep(self.delay)  # applied; a kill now loses the response
        return results

    def find(self, keys: Sequence[str]) -> dict[str, str]:
        with self._db() as db:
            marks = ",".join("?" * len(keys))
            rows = db.execute(
                f"SELECT key, MIN(seq) FROM writes WHERE key IN ({marks}) "  # noqa: S608 - placeholders only
                "AND at <= ? GROUP BY key",
                [*keys, time.time() - self.find_lag_s],
            ).fetchall()
        return {k: f"R{s}" for k, s in rows}

    def suppress(self, ref: ProspectRef, channels: frozenset[Channel]) -> None:
        return None

    def task_status(self, keys: Sequence[str]) -> dict[str, TaskStatus]:
        written = self.find(keys)
        with self._db() as db:
            marks = ",".join("?" * len(keys))
            done = {
                k
                for (k,) in db.execute(
                    f"SELECT key FROM completed WHERE key IN ({marks})",  # noqa: S608 - placeholders only
                    list(keys),
                )
            }
        return {k: TaskStatus.COMPLETED if k in done else TaskStatus.OPEN for k in written}


def complete_task(remote_db: Path, key: str) -> None:
    """What a rep does in the remote system: mark the task written under `key` done."""
    with sqlite3.connect(remote_db, timeout=30, isolation_level=None) as db:
        db.execute("INSERT OR IGNORE INTO completed (key) VALUES (?)", (key,))


class FakePlugin:
    type_name = "fake"
    settings_model = FakeSettings

    def open(self, ctx: ShardContext) -> Connector:
        settings = ctx.settings
        assert isinstance(settings, FakeSettings)
        if settings.api_token is not None:
            token = settings.api_token.reveal()
            log.debug("fake.authenticated", shard=ctx.name, header=f"Bearer {token}")
        events = read_events(Path(settings.events_file))
        people = {e.prospect.ref: e.prospect for e in events}
        for event in events:
            people.update({p.ref: p for p in event.related})
        return Connector(
            source=FileSource(events, settings.page_size),
            directory=FakeDirectory(people.values()),
            sink=FileSink(settings),
        )


plugin = FakePlugin()

_REASONS = {
    "Timing": ReasonKind.NOT_NOW,
    "Budget": ReasonKind.BUDGET,
    "Competitor": ReasonKind.COMPETITOR,
    "Missing feature": ReasonKind.PRODUCT_GAP,
    "No decision": ReasonKind.NO_DECISION,
    "Went dark": ReasonKind.NO_DECISION,
    "Not interested": ReasonKind.NOT_INTERESTED,
}


def demo_events(world: DemoWorld, shard: str) -> list[RejectionEvent]:
    """The demo world's closed-lost deals as events, the way a CRM connector reports them."""
    accounts = {
        c.id: Account(
            AccountRef(shard, c.id), c.name, c.employees, c.annual_revenue, c.industry, c.country
        )
        for c in world.companies
    }
    people = {
        p.id: Prospect(
            ProspectRef(shard, "contact", p.id),
            accounts[p.company_id],
            Owner("005OWNER", "America/New_York"),
            p.email,
            f"{p.first_name} {p.last_name}",
            p.title,
            p.department,
            frozenset({Channel.EMAIL} if p.opted_out_email else set())
            | frozenset({Channel.PHONE} if p.do_not_call else set()),
        )
        for p in world.people
    }
    events = []
    for deal in world.deals:
        closed = deal.closed_at.astimezone(UTC) - timedelta(seconds=0)
        events.append(
            RejectionEvent(
                event_id=f"fake:opp:{deal.id}",
                source=SourceKind.OPPORTUNITY,
                occurred_at=closed,
                prospect=people[deal.contact_ids[0]],
                position=closed.isoformat(),
                reason_raw=deal.loss_reason,
                reason=_REASONS.get(deal.loss_reason),
                competitor=deal.competitor,
                amount=deal.amount,
                stage=deal.stage_reached,
                opportunity_id=deal.id,
                related=tuple(people[c] for c in deal.contact_ids[1:]),
            )
        )
    return events
