"""The first backfill of a large org, through Bulk API 2.0 query jobs.

Bulk API 2.0 has neither parent-to-child sub-queries nor a dependable ORDER BY, and its CSV
pages arrive in no particular order. So the opportunities, their contact roles and their stage
history come from three jobs, each page spilled into a temporary SQLite file as it arrives,
then replayed in (SystemModstamp, Id) order and rebuilt into the REST shape the mapping reads.
Memory stays flat however large the org: only one page and one chunk are ever held.

All of a backfill's jobs (three for opportunities, one for leads) are started before the
first is waited for: Salesforce processes them in parallel, so the backfill waits about as
long as its slowest job instead of the sum of all four. Salesforce caps query jobs at 10,000
per rolling 24 hours and documents no limit on how many run at once; a backfill has at most
four open. The jobs are then waited for and read one after another.

The spill is also the checkpoint: each job's id is committed as soon as the job is created,
and the locator of its next result page with the page's rows, in the state directory. A
backfill that fails half-way (429 storms, 5xx, a restart) resumes with the jobs and pages it
has not read yet, so it makes progress however often it is interrupted; a job Salesforce
failed is started again alone. The engine may still fail before it commits the last of the
rows handed out, so the spill is kept until a read starts from a committed cursor
(`discard`).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from syncd_salesforce.client import BulkJobFailed, SalesforceClient
from syncd_salesforce.records import select

log = structlog.get_logger(__name__)
Record = dict[str, Any]
# The backfill's upper bound moves with every attempt; a resumed job keeps its own (the
# incremental reads after the backfill pick up from the last record it returned).
_UPPER_BOUND = re.compile(r"SystemModstamp <= \S+")
CHUNK = 500  # rows rebuilt at a time (also the size of the IN lists into the spill)
HISTORY_ROWS = 10  # stage changes kept per opportunity (the REST sub-query's LIMIT too)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Shape:
    """Rebuilds flat CSV columns into the REST shape: `Account.Name` -> {"Account": {"Name"}}.

    The column layout is worked out once per table, not once per row.
    """

    def __init__(self, columns: Sequence[str]):
        self.flat: list[tuple[int, str]] = []
        self.nested: dict[str, list[tuple[int, str]]] = {}
        for index, column in enumerate(columns):
            head, _, rest = column.partition(".")
            if rest:
                self.nested.setdefault(head, []).append((index, rest))
            else:
                self.flat.append((index, column))
        # relationships nested deeper (`Account.Owner.Name`) get their own layout, also once
        self.inner = {
            head: Shape([name for _, name in parts])
            for head, parts in self.nested.items()
            if any("." in name for _, name in parts)
        }

    def build(self, values: Sequence[Any]) -> Record:
        record: Record = {name: values[i] for i, name in self.flat}
        for head, parts in self.nested.items():
            inner = self.inner.get(head)
            if inner is None:
                record[head] = {name: values[i] for i, name in parts}
            else:
                record[head] = inner.build([values[i] for i, _ in parts])
        return record


class Spill:
    """A SQLite file holding CSV pages and the checkpoint of the jobs that produced them."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS _jobs (name TEXT PRIMARY KEY, shape TEXT NOT NULL, "
            "job_id TEXT, locator TEXT NOT NULL DEFAULT '', done INTEGER NOT NULL DEFAULT 0)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT)")
        self.db.commit()
        self._columns: dict[str, list[str]] = {}
        for (name,) in self.db.execute("SELECT name FROM _jobs"):
            info = self.db.execute(f"PRAGMA table_info({_quote(name)})").fetchall()
            if info:
                self._columns[name] = [row[1] for row in info]

    @classmethod
    def temporary(cls, directory: Path | None) -> Spill:
        handle, name = tempfile.mkstemp(prefix="syncd-sf-", suffix=".sqlite", dir=directory)
        os.close(handle)
        return cls(Path(name))

    def close(self) -> None:
        self.db.close()

    def delete(self) -> None:
        self.db.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO _meta (key, value) VALUES (?, ?)", (key, value))
        self.db.commit()

    def job(self, table: str, shape: str) -> tuple[str | None, str, bool]:
        """(job id, next locator, done) checkpointed for `table`; a job for another query
        (other fields or conditions) is forgotten with its rows."""
        row = self.db.execute(
            "SELECT shape, job_id, locator, done FROM _jobs WHERE name = ?", (table,)
        ).fetchone()
        if row is not None and row[0] == shape:
            return row[1], row[2], bool(row[3])
        self.restart(table, shape)
        return None, "", False

    def restart(self, table: str, shape: str, job_id: str | None = None) -> None:
        """Forget `table`'s rows; its next pages come from `job_id` (None: a job to create)."""
        self.db.execute(f"DROP TABLE IF EXISTS {_quote(table)}")
        self._columns.pop(table, None)
        self.db.execute(
            "INSERT OR REPLACE INTO _jobs (name, shape, job_id, locator, done) "
            "VALUES (?, ?, ?, '', 0)",
            (table, shape, job_id),
        )
        self.db.commit()

    def add_page(self, table: str, page: str, next_locator: str) -> None:
        """Store one CSV page's rows and the locator after it, in one transaction."""
        reader = csv.reader(io.StringIO(page))
        header = next(reader, None)
        if header is not None:
            if table not in self._columns:
                columns = ", ".join(f"{_quote(c)} TEXT" for c in header)
                self.db.execute(f"CREATE TABLE {_quote(table)} ({columns})")
                self._columns[table] = header
            marks = ", ".join("?" for _ in header)
            insert = f"INSERT INTO {_quote(table)} VALUES ({marks})"  # noqa: S608 - quoted name
            self.db.executemany(insert, reader)
        self.db.execute(
            "UPDATE _jobs SET locator = ?, done = ? WHERE name = ?",
            (next_locator, 0 if next_locator else 1, table),
        )
        self.db.commit()

    def index(self, table: str, column: str) -> None:
        if table in self._columns:
            self.db.execute(
                f"CREATE INDEX IF NOT EXISTS {_quote(table + '_' + column)} "
                f"ON {_quote(table)} ({_quote(column)})"
            )

    def ordered(self, table: str, order: str) -> Iterator[list[Record]]:
        if table not in self._columns:
            return
        statement = f"SELECT * FROM {_quote(table)} ORDER BY {order}"  # noqa: S608 - quoted names
        cursor = self.db.execute(statement)
        shape = Shape([d[0] for d in cursor.description])
        while rows := cursor.fetchmany(CHUNK):
            yield [shape.build(r) for r in rows]

    def grouped(
        self, table: str, key: str, ids: Sequence[str], order: str
    ) -> dict[str, list[Record]]:
        if table not in self._columns or not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        statement = (
            f"SELECT * FROM {_quote(table)} WHERE {_quote(key)} IN ({marks}) "  # noqa: S608 - quoted names, bound values
            f"ORDER BY {_quote(key)}, {order}"
        )
        cursor = self.db.execute(statement, list(ids))
        names = [d[0] for d in cursor.description]
        shape, at = Shape(names), names.index(key)
        out: dict[str, list[Record]] = {}
        for values in cursor:
            out.setdefault(str(values[at]), []).append(shape.build(values))
        return out


@dataclass(frozen=True)
class BulkJob:
    """One query job of a backfill: the spill it fills (`kind`) and the table in it."""

    kind: str
    table: str
    sobject: str
    soql: str

    @property
    def shape(self) -> str:
        """The query without its moving upper bound: what a checkpointed job must match."""
        return _UPPER_BOUND.sub("SystemModstamp <= ?", self.soql)


def opportunity_jobs(
    opportunity_fields: Sequence[str],
    role_fields: Sequence[str],
    history_fields: Sequence[str],
    conditions: Sequence[str],
) -> list[BulkJob]:
    """The three jobs behind closed-lost opportunities: deals, contact roles, stage history."""
    parents = [f"Opportunity.{c}" for c in conditions]
    return [
        BulkJob(
            "opportunities",
            "opportunity",
            "Opportunity",
            select(opportunity_fields, "Opportunity", conditions),
        ),
        BulkJob(
            "opportunities",
            "role",
            "OpportunityContactRole",
            select(["OpportunityId", *role_fields], "OpportunityContactRole", parents),
        ),
        BulkJob(
            "opportunities",
            "history",
            "OpportunityHistory",
            select(["OpportunityId", *history_fields], "OpportunityHistory", parents),
        ),
    ]


def record_job(sobject: str, fields: Sequence[str], conditions: Sequence[str]) -> BulkJob:
    """The one job behind a flat query (leads)."""
    return BulkJob(
        f"records-{sobject.lower()}", "rows", sobject, select(fields, sobject, conditions)
    )


class Backfill:
    def __init__(self, client: SalesforceClient, spill_dir: Path | None, name: str = "shard"):
        self._client = client
        self._spill_dir = spill_dir if spill_dir is not None and spill_dir.is_dir() else None
        self._name = name
        self._temporary: dict[str, Spill] = {}  # without a state directory: kept in memory
        self._fresh: set[str] = set()  # jobs created and not waited for since: too new to poll

    def _spill(self, kind: str) -> Spill:
        """The checkpointed spill of this kind of backfill, resumed when one was left."""
        if self._spill_dir is None:
            spill = self._temporary.get(kind)
            if spill is None:
                spill = self._temporary[kind] = Spill.temporary(None)
            return spill
        return Spill(self._path(kind))

    def _path(self, kind: str) -> Path:
        assert self._spill_dir is not None
        return self._spill_dir / f"salesforce-backfill-{self._digest()}-{kind}.sqlite"

    def _digest(self) -> str:
        return hashlib.sha256(self._name.encode()).hexdigest()[:12]

    def _keep(self, kind: str, spill: Spill) -> None:
        """The checkpoint stays for a next attempt (a temporary one open)."""
        if kind not in self._temporary:
            spill.close()

    def bound(self) -> str | None:
        """The upper bound (SOQL datetime) the backfill under way was started with, if any.

        A resumed job keeps the bound it was created with, so every stream of the resumed
        read (REST ones included) must keep it too: a stream reading further would carry the
        cursor past records the resumed jobs cannot return, and they would never be read."""
        if self._spill_dir is None and "bound" not in self._temporary:
            return None
        if self._spill_dir is not None and not self._path("bound").exists():
            return None
        spill = self._spill("bound")
        try:
            return spill.meta("until")
        finally:
            self._keep("bound", spill)

    def pin(self, until: str) -> None:
        """Record the upper bound of a backfill whose jobs are about to start."""
        spill = self._spill("bound")
        try:
            spill.set_meta("until", until)
        finally:
            self._keep("bound", spill)

    def discard(self) -> None:
        """The backfill's rows are committed (a read starts from a cursor): drop the spills."""
        for spill in self._temporary.values():
            spill.delete()
        self._temporary.clear()
        if self._spill_dir is not None:
            for path in self._spill_dir.glob(f"salesforce-backfill-{self._digest()}-*.sqlite"):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def start(self, jobs: Sequence[BulkJob]) -> None:
        """Create every job not checkpointed yet, each id committed before the next is made,
        so that they all process while the first is waited for."""
        for kind in dict.fromkeys(job.kind for job in jobs):
            spill = self._spill(kind)
            try:
                for job in (j for j in jobs if j.kind == kind):
                    self._started(spill, job)
            finally:
                self._keep(kind, spill)

    def _started(self, spill: Spill, job: BulkJob) -> tuple[str | None, str]:
        """(job id, next locator) of `job`, creating it when the checkpoint has none; the id
        is None when its pages are all read."""
        job_id, locator, done = spill.job(job.table, job.shape)
        if done:
            return None, ""
        if job_id is None:
            job_id = self._client.bulk_start(job.sobject, job.soql)
            spill.restart(job.table, job.shape, job_id)
            self._fresh.add(job_id)
        return job_id, locator

    def _load(self, spill: Spill, job: BulkJob) -> None:
        """Read one job's pages into the spill, from where its checkpoint stopped."""
        job_id, locator = self._started(spill, job)
        if job_id is None:
            return
        table, sobject = job.table, job.sobject
        fresh = job_id in self._fresh
        self._fresh.clear()  # the jobs started with this one have waited as long as it has
        try:
            self._client.bulk_wait(sobject, job_id, fresh=fresh)
        except BulkJobFailed:
            spill.restart(table, job.shape)  # the next attempt creates a new job
            raise
        pages = 0
        while True:
            page, locator_after = self._client.bulk_page(sobject, job_id, locator)
            spill.add_page(table, page, locator_after)
            pages += 1
            if not locator_after:
                break
            locator = locator_after
        log.debug("salesforce.bulk_job_read", sobject=sobject, pages=pages)

    def opportunities(self, jobs: Sequence[BulkJob]) -> Iterator[Record]:
        """Closed-lost opportunities in (SystemModstamp, Id) order, from `opportunity_jobs`
        (started here unless `start` already did)."""
        self.start(jobs)
        spill = self._spill("opportunities")
        try:
            for job in jobs:
                self._load(spill, job)
            spill.index("role", "OpportunityId")
            spill.index("history", "OpportunityId")
            for chunk in spill.ordered("opportunity", '"SystemModstamp", "Id"'):
                ids = [str(r["Id"]) for r in chunk]
                roles = spill.grouped(
                    "role", "OpportunityId", ids, '"IsPrimary" DESC, "CreatedDate", "Id"'
                )
                history = spill.grouped(
                    "history", "OpportunityId", ids, '"CreatedDate" DESC, "Id" DESC'
                )
                for record in chunk:
                    rid = str(record["Id"])
                    record["OpportunityContactRoles"] = {"records": roles.get(rid, [])}
                    record["OpportunityHistories"] = {
                        "records": history.get(rid, [])[:HISTORY_ROWS]
                    }
                    yield record
        finally:
            self._keep("opportunities", spill)

    def records(self, job: BulkJob) -> Iterator[Record]:
        """A `record_job`'s rows in (SystemModstamp, Id) order (leads)."""
        self.start([job])
        spill = self._spill(job.kind)
        try:
            self._load(spill, job)
            for chunk in spill.ordered(job.table, '"SystemModstamp", "Id"'):
                yield from chunk
        finally:
            self._keep(job.kind, spill)
