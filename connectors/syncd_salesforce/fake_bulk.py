"""Bulk API 2.0 query jobs for the local Salesforce: job records and CSV result pages.

A job snapshots its result when it is created (the platform also answers from a snapshot),
reports `UploadComplete` until `processing_s` has passed, then `JobComplete`. Results come in
pages of `maxRecords` rows with the `Sforce-Locator` / `Sforce-NumberOfRecords` headers the
client reads; every cell is quoted, nulls are empty, as the real CSV.
"""

from __future__ import annotations

import csv
import io
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from syncd_salesforce.fake_org import Org, full_id
from syncd_salesforce.fake_query import Compiler, wire_value
from syncd_salesforce.soql import SoqlError, parse

DEFAULT_MAX_RECORDS = 50_000


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
    ready_at: float
    failed: str | None = None
    aborted: bool = False
    locators: dict[str, int] = field(default_factory=dict)

    def state(self, now: float) -> str:
        if self.aborted:
            return "Aborted"
        if now < self.ready_at:
            return "UploadComplete"
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
                totalProcessingTime=1,
            )
        if state == "Failed":
            out["errorMessage"] = self.failed
        return out


class BulkQueries:
    """The org's query jobs; the HTTP layer turns `SoqlError` into the 400 the API sends."""

    def __init__(self, org: Org):
        self.org = org
        self.jobs: dict[str, QueryJob] = {}
        self.processing_s = 0.0
        self.fail_next: str | None = None  # the next job fails with this errorMessage
        self._serial = itertools.count(1)

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
        job = QueryJob(
            id=full_id(f"750{next(self._serial):012d}"),
            operation=operation,
            object=result.obj.name,
            query=text,
            created_by=user_id,
            created_at=self.org.now(),
            header=result.csv_header(),
            rows=[result.csv_row(r) for r in result.records],
            ready_at=time.monotonic() + self.processing_s,
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
