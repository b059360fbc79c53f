"""Bulk API 2.0 query jobs for the local Salesforce: job records and CSV result pages.

A job snapshots its result when it is created (the platform also answers from a snapshot),
then moves UploadComplete -> InProgress -> JobComplete as the platform does: it waits in the
queue for `queue_s`, then takes `row_s` per result row. The defaults are what a real org shows
for a small extract (a couple of seconds queued, about 10,000 rows a second after that); the
test kit sets both to zero unless a test is about them. Time is read from `clock` (seconds),
so a test steps it instead of sleeping. Jobs are processed in parallel, each on its own.

The org's allocation of query jobs (10,000 per rolling 24 hours, `DailyBulkV2QueryJobs` in
`/limits`) is enforced at creation. Results come in pages of `maxRecords` rows with the
`Sforce-Locator` / `Sforce-NumberOfRecords` headers the client reads; every cell is quoted,
nulls are empty, as the real CSV.
"""

from __future__ import annotations

import csv
import io
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from syncd_salesforce.fake_org import Org, full_id
from syncd_salesforce.fake_query import Compiler, wire_value
from syncd_salesforce.soql import SoqlError, parse

DEFAULT_MAX_RECORDS = 50_000
QUEUE_S = 2.0  # a query job's wait before processing starts
ROW_S = 0.0001  # processing time per result row (10,000 rows a second)
DAILY_JOBS = 10_000  # query jobs per rolling 24 hours (Bulk API 2.0 limits)
DAY_S = 86_400.0


class JobLimitExceeded(Exception):
    """The org's daily allocation of query jobs is spent (the API answers 403)."""


@dataclass
class QueryJob:
    id: str
    operation: str
    object: str
    query: str
    created_by: str
    created_at: Any
    header: list[str]
    rows: list[list[str]]
    started_at: float  # processing starts (UploadComplete until then)
    ready_at: float  # processing ends (InProgress until then)
    failed: str | None = None
    aborted: bool = False
    locators: dict[str, int] = field(default_factory=dict)

    def state(self, now: float) -> str:
        if self.aborted:
            return "Aborted"
        if now < self.started_at:
            return "UploadComplete"
        if now < self.ready_at:
            return "InProgress"
        return "Failed" if self.failed else "JobComplete"

    def info(self, now: float, version: str) -> dict[str, Any]:
        state = self.state(now)
        out: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": wire_value(self.created_at),
            "systemModstamp": wire_value(self.created_at),
            "state": state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(version),
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }
        if state in ("JobComplete", "Failed"):
            out.update(
                numberRecordsProcessed=len(self.rows) if not self.failed else 0,
                retries=0,
                totalProcessingTime=round((self.ready_at - self.started_at) * 1000),
            )
        if state == "Failed":
            out["errorMessage"] = self.failed
        return out


class BulkQueries:
    """The org's query jobs; the HTTP layer turns `SoqlError` into the 400 the API sends."""

    def __init__(self, org: Org, clock: Callable[[], float] = time.monotonic):
        self.org = org
        self.clock = clock
        self.jobs: dict[str, QueryJob] = {}
        self.queue_s = QUEUE_S
        self.row_s = ROW_S
        self.daily_jobs = DAILY_JOBS
        self.fail_next: str | None = None  # the next job fails with this errorMessage
        self._created: deque[float] = deque()  # creation times within the last 24 hours
        self._lock = threading.RLock()  # jobs are created on the server's threads
        self._serial = itertools.count(1)

    def jobs_today(self) -> int:
        """Query jobs created in the rolling 24 hours up to now."""
        now = self.clock()
        with self._lock:
            while self._created and now - self._created[0] >= DAY_S:
                self._created.popleft()
            return len(self._created)

    def admit(self) -> bool:
        """Count a new job against the daily allocation; False when it is spent."""
        with self._lock:
            if self.jobs_today() >= self.daily_jobs:
                return False
            self._created.append(self.clock())
            return True

    def create(self, body: dict[str, Any], user_id: str) -> QueryJob:
        operation = body.get("operation")
        text = body.get("query")
        if operation not in ("query", "queryAll") or not isinstance(text, str):
            raise SoqlError(
                "operation must be query or queryAll and query is required", "INVALIDJOB"
            )
        if body.get("columnDelimiter", "COMMA") != "COMMA" or body.get("lineEnding", "LF") != "LF":
            raise SoqlError(
                "only COMMA delimited, LF terminated CSV is supported here", "INVALIDJOB"
            )
        if parse(text).is_count:
            raise SoqlError("Aggregate queries are not supported in Bulk API 2.0", "INVALIDJOB")
        result = Compiler(self.org).execute(
            text, include_deleted=operation == "queryAll", allow_children=False
        )
        if not self.admit():
            raise JobLimitExceeded("DailyBulkV2QueryJobs Limit exceeded.")
        rows = [result.csv_row(r) for r in result.records]
        started = self.clock() + self.queue_s
        job = QueryJob(
            id=full_id(f"750{next(self._serial):012d}"),
            operation=operation,
            object=result.obj.name,
            query=text,
            created_by=user_id,
            created_at=self.org.now(),
            header=result.csv_header(),
            rows=rows,
            started_at=started,
            ready_at=started + self.row_s * len(rows),
            failed=self.fail_next,
        )
        self.fail_next = None
        self.jobs[job.id] = job
        return job

    def page(self, job: QueryJob, locator: str | None, max_records: int) -> tuple[str, str, int]:
        """(csv text, next locator or "null", rows in this page)."""
        start = 0
        if locator:
            if locator not in job.locators:
                raise SoqlError(f"Invalid locator: {locator}", "INVALIDLOCATOR")
            start = job.locators[locator]
        rows = job.rows[start : start + max_records]
        end = start + len(rows)
        following = "null"
        if end < len(job.rows):
            following = f"{job.id[-6:]}{end:010d}"
            job.locators[following] = end
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(job.header)
        writer.writerows(rows)
        return out.getvalue(), following, len(rows)
