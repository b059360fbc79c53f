"""A local Salesforce that simple-salesforce cannot tell from the real one.

Speaks the REST API's paths, status codes, JSON and error bodies: the OAuth token endpoint (JWT
bearer, client credentials), `query` / `queryAll` with `nextRecordsUrl` paging over SOQL that
is parsed and evaluated (`soql.py`, `fake_query.py`), sObject create / get / update / delete /
upsert by external id, sObject Collections (`fake_collections.py`), `composite/batch`,
describe, limits, and Bulk API 2.0 query jobs (`fake_bulk.py`), over an org that enforces
the platform's write rules (`fake_org.py`, `fake_schema.py`); OAuth lives in `fake_auth.py`.
Every data response carries `Sforce-Limit-Info`.

Switches for tests, the sandbox and benchmarks: `latency_s`, `inject(Fault(...))` (any status,
timeouts, dropped connections, applied-but-lost), `fail_with(...)` for errors in Salesforce's
own dialect, `expire_sessions()`, `revoke_credentials()`, `org.lock_rows(n)`
(UNABLE_TO_LOCK_ROW), `bulk.queue_s` / `bulk.row_s` (a query job's processing time) and
`bulk.fail_next`. The org's allocations (`fake_limits.py`): `api_limit` requests a day,
`long_running_limit` concurrent long-running requests, `bulk.daily_jobs` query jobs a day;
`peaks` records how close the traffic came to each. `clock` (seconds, default the monotonic
clock) times bulk jobs and long-running requests: a test sets a clock it steps itself.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from syncd.testing.httpfake import (
    FakeHTTPServer,
    Fault,
    FaultKind,
    Request,
    Response,
)
from syncd_salesforce.fake_auth import OAuthServer
from syncd_salesforce.fake_bulk import DEFAULT_MAX_RECORDS, BulkQueries, JobLimitExceeded
from syncd_salesforce.fake_collections import Collections
from syncd_salesforce.fake_limits import CONCURRENT_LONG_RUNNING, LONG_RUNNING_S, Peaks
from syncd_salesforce.fake_org import Org, RecordError
from syncd_salesforce.fake_query import Compiler, Result, wire_value
from syncd_salesforce.fake_schema import DEFAULT_STAGES, FieldDef, build_schema, without_field
from syncd_salesforce.soql import SoqlError

V = r"/services/data/v(?P<version>\d+\.\d)"
LOCATOR_IDLE_S = 15 * 60
DEFAULT_LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)


def sf_error(status: int, code: str, message: str, **headers: str) -> Response:
    """An error in the REST API's shape: a list of {message, errorCode}."""
    return Response(status, [{"message": message, "errorCode": code}], dict(headers))


@dataclass
class _Locator:
    result: Result
    offset: int
    page_size: int
    token: str
    touched: float


class FakeSalesforce(FakeHTTPServer):
    def __init__(
        self,
        port: int = 0,
        *,
        consumer_key: str = "syncd-connected-app",
        consumer_secret: str | None = None,
        username: str = "integration@syncd.example",
        jwt_public_key: str | None = None,
        lead_statuses: tuple[str, ...] = DEFAULT_LEAD_STATUSES,
        converted_statuses: tuple[str, ...] = ("Closed - Converted",),
        task_external_id: str | None = "Syncd_Key__c",
        country_picklists: bool = True,
        api_limit: int = 5_000_000,
    ):
        super().__init__(port)
        schema = build_schema(
            lead_statuses=lead_statuses,
            country_picklists=country_picklists,
            task_external_id=task_external_id,
        )
        self.org = Org(schema)
        self.queries = Compiler(self.org)
        self.clock: Callable[[], float] = time.monotonic
        self.bulk = BulkQueries(self.org, clock=lambda: self.clock())
        self.collections = Collections(self.org)
        self.auth = OAuthServer(
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            username=username,
            jwt_public_key=jwt_public_key,
            user_id=lambda: self.org.admin_id,
            instance_host="syncd-sandbox.my.salesforce.com",
        )
        self.api_limit = api_limit
        self.api_used = 0
        self.long_running_limit = CONCURRENT_LONG_RUNNING
        self.peaks = Peaks()
        self._in_flight: dict[int, float] = {}  # request serial -> when it arrived
        self._requests = itertools.count(1)
        self.soql_log: list[str] = []  # every SOQL statement received, for tests to inspect
        self._locators: dict[str, _Locator] = {}
        self._serial = itertools.count(1)
        for order, status in enumerate(lead_statuses, 1):
            self.org.setup_insert(
                "LeadStatus",
                {
                    "ApiName": status,
                    "MasterLabel": status,
                    "SortOrder": order,
                    "IsConverted": status in converted_statuses,
                    "IsDefault": order == 1,
                },
            )
        for stage in DEFAULT_STAGES:
            self.org.setup_insert(
                "OpportunityStage",
                {
                    "ApiName": stage.name,
                    "MasterLabel": stage.name,
                    "IsClosed": stage.closed,
                    "IsWon": stage.won,
                    "ForecastCategory": stage.forecast,
                    "DefaultProbability": float(stage.probability),
                },
            )
        self._routes_up()

    def _routes_up(self) -> None:
        r = self.route
        r("POST", r"/services/oauth2/token", self.auth.token)
        r("GET", rf"{V}/?", self._versions)
        r("GET", rf"{V}/limits/?", self._limits)
        r("GET", rf"{V}/(?P<endpoint>query|queryAll)/?", self._query)
        r("GET", rf"{V}/(?P<endpoint>query|queryAll)/(?P<locator>[\w-]+)", self._query_more)
        r("GET", rf"{V}/sobjects/?", self._describe_global)
        r("GET", rf"{V}/sobjects/(?P<sobject>\w+)/describe/?", self._describe)
        r("GET", rf"{V}/sobjects/(?P<sobject>\w+)/?", self._describe)
        r("POST", rf"{V}/sobjects/(?P<sobject>\w+)/?", self._create)
        r("GET", rf"{V}/sobjects/(?P<sobject>\w+)/(?P<rid>\w{{15,18}})/?", self._get)
        r("PATCH", rf"{V}/sobjects/(?P<sobject>\w+)/(?P<rid>\w{{15,18}})/?", self._update)
        r("DELETE", rf"{V}/sobjects/(?P<sobject>\w+)/(?P<rid>\w{{15,18}})/?", self._delete)
        # the base decodes the path: an external id may hold any character, "/" included
        r("PATCH", rf"{V}/sobjects/(?P<sobject>\w+)/(?P<field>\w+)/(?P<value>.+)", self._upsert)
        r("POST", rf"{V}/composite/sobjects/?", self._collection_create)
        r("PATCH", rf"{V}/composite/sobjects/?", self._collection_update)
        r(
            "PATCH",
            rf"{V}/composite/sobjects/(?P<sobject>\w+)/(?P<field>\w+)/?",
            self._collection_upsert,
        )
        r("POST", rf"{V}/composite/batch/?", self._batch)
        r("POST", rf"{V}/jobs/query/?", self._job_create)
        r("GET", rf"{V}/jobs/query/(?P<job>\w+)/?", self._job_get)
        r("GET", rf"{V}/jobs/query/(?P<job>\w+)/results/?", self._job_results)
        r("PATCH", rf"{V}/jobs/query/(?P<job>\w+)/?", self._job_abort)
        r("POST", rf"{V}/tooling/sobjects/CustomField/?", self._create_custom_field)

    # --- switches ----------------------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Every issued access token stops working (a session timeout); logins still work."""
        self.auth.end_sessions()

    def revoke_credentials(self) -> None:
        """Sessions end and the token endpoint refuses the app (invalid_grant)."""
        self.auth.revoked = True
        self.auth.end_sessions()

    def restore_credentials(self) -> None:
        self.auth.revoked = False

    def fail_with(
        self,
        status: int,
        code: str,
        message: str,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """The next `times` matching requests get this Salesforce error, unapplied."""
        self.inject(
            Fault(
                FaultKind.STATUS,
                sf_error(status, code, message),
                method=method,
                path=path,
                times=times,
            )
        )

    # --- seeding aids (setup objects the API cannot create) -------------------------------------

    def add_user(self, name: str, timezone: str = "America/New_York", active: bool = True) -> str:
        email = name.lower().replace(" ", ".") + "@syncd.example"
        return self.org.setup_insert(
            "User", {"Name": name, "Email": email, "TimeZoneSidKey": timezone, "IsActive": active}
        )

    def log_activity(self, contact_id: str, day: str) -> None:
        """A logged call or e-mail with this contact: what sets Contact.LastActivityDate."""
        with self.org.lock:
            self.org.records["Contact"][contact_id]["LastActivityDate"] = date.fromisoformat(day)

    def deactivate_user(self, user_id: str) -> None:
        """An admin deactivating a user who left: their records keep them as owner."""
        with self.org.lock:
            self.org.records["User"][user_id]["IsActive"] = False

    def add_queue(self, name: str) -> str:
        return self.org.setup_insert("Group", {"Name": name, "Type": "Queue"})

    def add_campaign(self, name: str, statuses: tuple[str, ...] = ("Sent", "Responded")) -> str:
        campaign = self.org.insert("Campaign", {"Name": name})
        for i, label in enumerate(statuses):
            self.org.setup_insert(
                "CampaignMemberStatus",
                {
                    "CampaignId": campaign,
                    "Label": label,
                    "IsDefault": i == 0,
                    "HasResponded": label == "Responded",
                },
            )
        return campaign

    def issue_token(self) -> str:
        """An access token for the integration user, without the OAuth dance (seeding)."""
        return self.auth.issue()

    def drop_field(self, sobject: str, name: str) -> None:
        """Remove a field from the org (e.g. an external-ID field not created yet)."""
        with self.lock:
            without_field(self.org.schema, sobject, name)

    # --- pipeline hooks -----------------------------------------------------------------------

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests received, optionally only those with this method / a path matching."""
        return len(self.calls(method, path))

    def handle(self, req: Request) -> Response | None:
        if not req.path.startswith("/services/data/"):
            return super().handle(req)
        serial = next(self._requests)
        with self.lock:
            now = self.clock()
            running = sum(1 for at in self._in_flight.values() if now - at >= LONG_RUNNING_S)
            self.peaks.note(now, "long_running", running, self.long_running_limit)
            if running >= self.long_running_limit:
                self.peaks.refuse("long_running")
                return sf_error(
                    403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."
                )
            self._in_flight[serial] = now
        try:
            denied = self._authorize(req)
            if denied is not None:
                if self.latency_s:
                    time.sleep(self.latency_s)
                return denied
            return super().handle(req)
        finally:
            with self.lock:
                del self._in_flight[serial]

    def _authorize(self, req: Request) -> Response | None:
        with self.lock:
            if self.auth.user_of(req.bearer) is None:
                return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            if self.api_used >= self.api_limit:
                self.peaks.refuse("api_requests")
                return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.api_used += 1
            self.peaks.note(self.clock(), "api_requests", self.api_used, self.api_limit)
        return None

    def limits(self) -> dict[str, int]:
        """The allocations enforced, by the names `peaks` counts them under."""
        return {
            "api_requests": self.api_limit,
            "long_running": self.long_running_limit,
            "bulk_jobs": self.bulk.daily_jobs,
        }

    def rate_limited(self, req: Request) -> Response:
        return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")

    def not_found(self, req: Request) -> Response:
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")

    def is_write(self, req: Request) -> bool:
        """Logins, query jobs and composite batches of GETs read; everything else writes."""
        path = req.path.rstrip("/")
        if req.method == "POST" and (
            path.endswith("/oauth2/token") or path.endswith("/jobs/query")
        ):
            return False
        if req.method == "POST" and path.endswith("/composite/batch"):
            body = req.json()
            subs = body.get("batchRequests") if isinstance(body, dict) else None
            return any(str(s.get("method", "GET")).upper() != "GET" for s in subs or [])
        return super().is_write(req)

    def refuse_write(self, req: Request) -> Response:
        return sf_error(403, "INSUFFICIENT_ACCESS", "read-only org: this fake refuses writes")

    def decorate(self, req: Request, resp: Response) -> None:
        if req.path.startswith("/services/data/"):
            resp.headers.setdefault(
                "Sforce-Limit-Info", f"api-usage={self.api_used}/{self.api_limit}"
            )

    def _user(self, req: Request) -> str:
        return self.auth.user_of(req.bearer) or self.org.admin_id

    # --- misc ---------------------------------------------------------------------------------

    def _versions(self, req: Request, version: str) -> Response:
        base = f"/services/data/v{version}"
        return Response(
            200,
            {
                "sobjects": f"{base}/sobjects",
                "query": f"{base}/query",
                "limits": f"{base}/limits",
                "composite": f"{base}/composite",
            },
        )

    def _limits(self, req: Request, version: str) -> Response:
        return Response(
            200,
            {
                "DailyApiRequests": {
                    "Max": self.api_limit,
                    "Remaining": self.api_limit - self.api_used,
                },
                "DailyBulkV2QueryJobs": {
                    "Max": self.bulk.daily_jobs,
                    "Remaining": max(0, self.bulk.daily_jobs - self.bulk.jobs_today()),
                },
            },
        )

    def _describe_global(self, req: Request, version: str) -> Response:
        listing = [
            {
                key: d[key]
                for key in (
                    "name",
                    "label",
                    "keyPrefix",
                    "createable",
                    "queryable",
                    "custom",
                    "urls",
                )
            }
            for d in (o.describe() for o in self.org.schema.values())
        ]
        return Response(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": listing})

    def _describe(self, req: Request, version: str, sobject: str) -> Response:
        obj = self.org.schema.get(sobject)
        if obj is None:
            return self.not_found(req)
        return Response(200, obj.describe())

    # --- query ----------------------------------------------------------------------------------

    def _query(self, req: Request, version: str, endpoint: str) -> Response:
        text = req.arg("q")
        if not text:
            return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        with self.lock:
            self.soql_log.append(text)
        try:
            result = self.queries.execute(text, include_deleted=endpoint == "queryAll")
        except SoqlError as exc:
            return sf_error(400, exc.code, str(exc))
        result.version = version
        if result.count_only:
            return Response(200, {"totalSize": result.total, "done": True, "records": []})
        page_size = self._batch_size(req)
        locator = _Locator(result, 0, page_size, req.bearer or "", time.monotonic())
        return self._page(version, endpoint, f"01g8d{next(self._serial):010d}", locator)

    def _query_more(self, req: Request, version: str, endpoint: str, locator: str) -> Response:
        key, _, offset = locator.rpartition("-")
        with self.lock:
            state = self._locators.get(key)
            stale = state is None or time.monotonic() - state.touched > LOCATOR_IDLE_S
            if state is None or stale or state.token != req.bearer or str(state.offset) != offset:
                return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(version, endpoint, key, state)

    def _page(self, version: str, endpoint: str, key: str, state: _Locator) -> Response:
        result = state.result
        rows = result.records[state.offset : state.offset + state.page_size]
        body: dict[str, Any] = {
            "totalSize": result.total,
            "done": True,
            "records": [result.render(r) for r in rows],
        }
        end = state.offset + len(rows)
        with self.lock:
            if end < result.total:
                state.offset, state.touched = end, time.monotonic()
                self._locators[key] = state
                body["done"] = False
                body["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{key}-{end}"
            else:
                self._locators.pop(key, None)
        return Response(200, body)

    @staticmethod
    def _batch_size(req: Request) -> int:
        options = req.headers.get("Sforce-Query-Options", "")
        for part in options.split(","):
            name, _, value = part.strip().partition("=")
            if name == "batchSize" and value.isdigit():
                return max(200, min(2000, int(value)))
        return 2000

    # --- set-up through the Tooling API ---------------------------------------------------------

    def _create_custom_field(self, req: Request, version: str) -> Response:
        """A custom Text field on Activity (so on Task), as the Tooling API creates it."""
        body = req.json() or {}
        owner, _, name = str(body.get("FullName", "")).partition(".")
        meta = body.get("Metadata") or {}
        if owner != "Activity" or not name.endswith("__c") or meta.get("type") != "Text":
            return sf_error(400, "INVALID_INPUT", "only Activity text fields are supported here")
        with self.lock:
            task = self.org.schema["Task"]
            if task.field(name) is not None:
                return sf_error(400, "DUPLICATE_DEVELOPER_NAME", f"{name} already exists")
            task.add_field(
                FieldDef(
                    name,
                    "string",
                    length=int(meta.get("length") or 255),
                    external_id=bool(meta.get("externalId")),
                    unique=bool(meta.get("unique")),
                    custom=True,
                )
            )
        return Response(
            201,
            {"id": "00N8d" + str(next(self._serial)).rjust(10, "0"), "success": True, "errors": []},
        )

    # --- single records -----------------------------------------------------------------------

    def _create(self, req: Request, version: str, sobject: str) -> Response:
        try:
            rid = self.org.insert(sobject, req.json() or {}, user_id=self._user(req))
        except RecordError as exc:
            return self._record_error(exc)
        return Response(201, {"id": rid, "success": True, "errors": []})

    def _get(self, req: Request, version: str, sobject: str, rid: str) -> Response:
        record = self.org.find(rid)
        if record is None or self.org.sobject_of(record["Id"]) != sobject:
            return self.not_found(req)
        wanted = req.arg("fields")
        names = [f.strip() for f in wanted.split(",")] if wanted else list(record)
        out: dict[str, Any] = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}",
            }
        }
        out.update({name: wire_value(record.get(name)) for name in names})
        return Response(200, out)

    def _update(self, req: Request, version: str, sobject: str, rid: str) -> Response:
        try:
            self.org.update(sobject, rid, req.json() or {}, user_id=self._user(req))
        except RecordError as exc:
            return self._record_error(exc)
        return Response(204, None)

    def _delete(self, req: Request, version: str, sobject: str, rid: str) -> Response:
        try:
            self.org.delete(sobject, rid)
        except RecordError as exc:
            return self._record_error(exc)
        return Response(204, None)

    def _upsert(self, req: Request, version: str, sobject: str, field: str, value: str) -> Response:
        try:
            rid, created = self.org.upsert(
                sobject, field, value, req.json() or {}, user_id=self._user(req)
            )
        except RecordError as exc:
            return self._record_error(exc)
        body = {"id": rid, "success": True, "errors": [], "created": created}
        return Response(201 if created else 200, body)

    @staticmethod
    def _record_error(exc: RecordError) -> Response:
        status = 404 if exc.code == "NOT_FOUND" else 400
        return Response(
            status, [{"message": exc.message, "errorCode": exc.code, "fields": list(exc.fields)}]
        )

    # --- sObject Collections ------------------------------------------------------------------

    def _collection_create(self, req: Request, version: str) -> Response:
        return self.collections.create(req.json(), self._user(req))

    def _collection_update(self, req: Request, version: str) -> Response:
        return self.collections.update(req.json(), self._user(req))

    def _collection_upsert(self, req: Request, version: str, sobject: str, field: str) -> Response:
        return self.collections.upsert(req.json(), self._user(req), sobject, field)

    # --- composite/batch ------------------------------------------------------------------------

    def _batch(self, req: Request, version: str) -> Response:
        body = req.json()
        subrequests = body.get("batchRequests") if isinstance(body, dict) else None
        if not isinstance(subrequests, list) or not 0 < len(subrequests) <= 25:
            return sf_error(400, "INVALID_BATCH_REQUEST", "batchRequests must hold 1 to 25 items")
        results = []
        for sub in subrequests:
            url = str(sub.get("url", ""))
            path = url if url.startswith("/services/data/") else f"/services/data/{url.lstrip('/')}"
            parts = urlsplit(path)
            inner = Request(
                str(sub.get("method", "GET")).upper(),
                parts.path,
                parse_qs(parts.query),
                req.headers,
                b"",
            )
            if sub.get("richInput") is not None:
                inner.body = json.dumps(sub["richInput"]).encode()
            resp = self._apply(inner)
            results.append({"statusCode": resp.status, "result": resp.body})
        has_errors = any(r["statusCode"] >= 400 for r in results)
        return Response(200, {"hasErrors": has_errors, "results": results})

    # --- Bulk API 2.0 query jobs ----------------------------------------------------------------

    def _job_create(self, req: Request, version: str) -> Response:
        body = req.json() or {}
        with self.lock:
            self.soql_log.append(str(body.get("query")))
        try:
            job = self.bulk.create(body, self._user(req))
        except SoqlError as exc:
            return sf_error(400, exc.code, str(exc))
        except JobLimitExceeded as exc:
            self.peaks.refuse("bulk_jobs")
            return sf_error(403, "REQUEST_LIMIT_EXCEEDED", str(exc))
        self.peaks.note(self.clock(), "bulk_jobs", self.bulk.jobs_today(), self.bulk.daily_jobs)
        return Response(200, job.info(self.clock(), version))

    def _job_get(self, req: Request, version: str, job: str) -> Response:
        found = self.bulk.jobs.get(job)
        if found is None:
            return self.not_found(req)
        return Response(200, found.info(self.clock(), version))

    def _job_results(self, req: Request, version: str, job: str) -> Response:
        found = self.bulk.jobs.get(job)
        if found is None:
            return self.not_found(req)
        if found.state(self.clock()) != "JobComplete":
            return sf_error(400, "API_ERROR", "The job isn't complete: results are not available")
        max_records = int(req.arg("maxRecords") or DEFAULT_MAX_RECORDS)
        try:
            text, locator, count = self.bulk.page(found, req.arg("locator"), max_records)
        except SoqlError as exc:
            return sf_error(400, exc.code, str(exc))
        headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(count)}
        return Response(200, text, headers, content_type="text/csv")

    def _job_abort(self, req: Request, version: str, job: str) -> Response:
        found = self.bulk.jobs.get(job)
        if found is None:
            return self.not_found(req)
        found.aborted = True
        return Response(200, found.info(self.clock(), version))
