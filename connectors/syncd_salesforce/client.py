"""One authenticated simple-salesforce client per shard, with the safety nets the library lacks.

Every call goes through `call`: the rate governor first (syncd keeps to its share of the
org's daily requests), then the call, its exception translated in `errors.translate`, then
short in-call retries for transient failures. Waits longer than a short back-off (the daily
budget, a spent share) are raised at once so the shard pauses instead of blocking the daemon.
REST calls re-login on an expired session inside the library; Bulk API 2.0 does not, so the
bulk calls log in again themselves and retry on a fresh handle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import structlog
from simple_salesforce.api import Salesforce
from simple_salesforce.bulk2 import Operation
from simple_salesforce.exceptions import SalesforceExpiredSession

from syncd.connectors import ConfigError, MalformedAnswer, RetriableError, SyncError
from syncd.retry import RateGovernor, call_with_retry, fence_call
from syncd.secrets import SecretError, register
from syncd_salesforce.errors import QueryLocatorExpired, translate
from syncd_salesforce.settings import SalesforceSettings
from syncd_salesforce.transport import UsageWatcher, build_session

T = TypeVar("T")
log = structlog.get_logger(__name__)
MAX_IN_CALL_WAIT_S = 30.0  # longer waits end the call: the engine backs the shard off
BULK_MAX_WAIT_S = 1800.0  # a bulk job still running after this: resume waiting next cycle
BULK_FIRST_POLL_S = 0.5  # the wait after the first poll; doubles up to `bulk_poll_s`
Record = dict[str, Any]
BATCH_LIMIT = 25  # sub-requests in one composite/batch call


def poll_delays(poll_s: float) -> Iterator[float]:
    """The waits between a bulk job's polls: 0.5 s, doubling, then `poll_s` for good."""
    delay = min(BULK_FIRST_POLL_S, poll_s)
    while True:
        yield delay
        delay = min(delay * 2, poll_s)


class BulkJobFailed(RetriableError):
    """The org failed or aborted a bulk job: start a new one."""


class _GiveUp(Exception):
    """Carries an error out of the retry loop without further attempts."""

    def __init__(self, error: SyncError):
        super().__init__(str(error))
        self.error = error


def _relative(next_records_url: str) -> str:
    """`/services/data/v59.0/query/01g...-2000` as a batch sub-request's path (`query/...`)."""
    path = next_records_url.split("/services/data/", 1)[-1]
    return path.split("/", 1)[1] if path.startswith("v") and "/" in path else path


def query_page(answer: Any, what: str) -> dict[str, Any]:
    """A query answer checked for the shape read (inside the retried call): a list of record
    objects, `done`, and `nextRecordsUrl` when not done. Otherwise a MalformedAnswer."""
    if not isinstance(answer, dict) or not isinstance(answer.get("records"), list):
        raise MalformedAnswer(f"salesforce: {what}: the query answer has no records list")
    if not all(isinstance(r, dict) for r in answer["records"]):
        raise MalformedAnswer(f"salesforce: {what}: a query record is not an object")
    done = answer.get("done", True)
    if not isinstance(done, bool):
        raise MalformedAnswer(f"salesforce: {what}: the query answer's done is not a boolean")
    if not done and not isinstance(answer.get("nextRecordsUrl"), str):
        raise MalformedAnswer(f"salesforce: {what}: a query answer not done has no next URL")
    return {**answer, "done": done}


class SalesforceClient:
    def __init__(
        self, settings: SalesforceSettings, *, sleep: Callable[[float], None] = time.sleep
    ):
        self.settings = settings
        self._sleep = sleep
        self.governor = RateGovernor(share=settings.api_share, sleep=sleep)
        self.usage = UsageWatcher(self.governor.observe, settings.api_share)
        self.session = build_session(settings, self.usage)
        self._sf: Salesforce | None = None
        self._login_lock = threading.Lock()

    # --- authentication -----------------------------------------------------------------------

    @property
    def sf(self) -> Salesforce:
        with self._login_lock:
            if self._sf is None:
                self._sf = self._login()
            return self._sf

    def _login(self) -> Salesforce:
        s = self.settings
        common: dict[str, Any] = {
            "session": self.session,
            "version": s.api_version,
            "object_pairs_hook": dict,
        }
        try:
            if s.auth == "jwt":
                assert s.private_key is not None  # the settings model guarantees it
                sf = Salesforce(
                    username=s.username,
                    consumer_key=s.consumer_key,
                    privatekey=s.private_key.reveal(),
                    domain=s.login_domain,
                    instance_url=s.my_domain,
                    **common,
                )
            else:
                assert s.consumer_secret is not None
                sf = Salesforce(
                    consumer_key=s.consumer_key,
                    consumer_secret=s.consumer_secret.reveal(),
                    domain=s.my_domain,
                    **common,
                )
        except SecretError as exc:
            raise ConfigError(f"salesforce: {exc}") from exc
        except Exception as exc:
            raise translate(exc) from exc
        register(sf.session_id)  # a run-time credential: never in a log line
        log.info("salesforce.login", auth=s.auth)
        return sf

    def refresh(self) -> None:
        """Log in again (after an expired session the library did not handle itself)."""
        try:
            self.sf._refresh_session()
        except Exception as exc:
            raise translate(exc) from exc
        register(self.sf.session_id)
        log.info("salesforce.relogin", auth=self.settings.auth)

    # --- calls --------------------------------------------------------------------------------

    def call(
        self,
        fn: Callable[[Salesforce], T],
        *,
        what: str,
        write: bool = False,
        resend_safe: bool = True,
    ) -> T:
        """Run one API call with governor, translation and short retries.

        `write` marks calls that change data (failures without an answer are then in doubt);
        `resend_safe` allows retrying those in the call (an upsert by external id).
        """

        def attempt() -> T:
            self.governor.acquire(max_wait_s=MAX_IN_CALL_WAIT_S)
            self.usage.take_retry_after()
            sf = self.sf
            if write:
                fence_call(what)
            try:
                return fn(sf)
            except Exception as exc:
                raise self._honour_retry_after(translate(exc, write=write)) from exc
            finally:
                register(sf.session_id)  # the library may have logged in again by itself

        return self._with_retries(attempt, what=what, allow_in_doubt=resend_safe)

    def _honour_retry_after(self, error: SyncError) -> SyncError:
        """Never retry sooner than the answer's own Retry-After asked."""
        asked = self.usage.take_retry_after()
        if isinstance(error, RetriableError) and asked is not None:
            error.retry_after_s = max(error.retry_after_s or 0.0, asked)
        return error

    def _with_retries(self, attempt: Callable[[], T], *, what: str, allow_in_doubt: bool) -> T:
        def guarded() -> T:
            try:
                return attempt()
            except QueryLocatorExpired as exc:
                raise _GiveUp(exc) from exc
            except RetriableError as exc:
                if (exc.retry_after_s or 0.0) > MAX_IN_CALL_WAIT_S:
                    raise _GiveUp(exc) from exc
                raise

        try:
            return call_with_retry(
                guarded,
                attempts=self.settings.retry_attempts,
                base_s=self.settings.retry_base_s,
                max_s=MAX_IN_CALL_WAIT_S,
                allow_in_doubt=allow_in_doubt,
                sleep=self._sleep,
                what=what,
            )
        except _GiveUp as give_up:
            raise give_up.error from give_up.error.__cause__

    def restful(
        self, path: str, *, method: str = "GET", what: str, resend_safe: bool = False, **kw: Any
    ) -> Any:
        """A REST call; writes are retried within the call only when `resend_safe`."""
        write = method != "GET"
        return self.call(
            lambda sf: sf.restful(path, method=method, **kw),
            what=what,
            write=write,
            resend_safe=resend_safe or not write,
        )

    def query_pages(self, soql: str, *, what: str) -> Iterator[list[Record]]:
        """The pages of a REST query, following nextRecordsUrl; one API call per page."""
        headers = {"Sforce-Query-Options": f"batchSize={self.settings.page_size}"}
        result = self.call(lambda sf: query_page(sf.query(soql, headers=headers), what), what=what)
        while True:
            yield result["records"]
            if result["done"]:
                return
            result = self.query_more(result["nextRecordsUrl"], what=what, headers=headers)

    def query_more(self, url: str, *, what: str, headers: dict[str, str] | None = None) -> Any:
        """The next page of a query (`nextRecordsUrl`)."""
        return self.call(
            lambda sf: query_page(
                sf.query_more(url, identifier_is_url=True, headers=headers or {}), what
            ),
            what=what,
        )

    def query_all(self, soql: str, *, what: str) -> list[Record]:
        """All records of a small query (lookups by IN list, reference data)."""
        return [record for page in self.query_pages(soql, what=what) for record in page]

    def batch(self, urls: list[str], *, what: str) -> list[tuple[int, Any]]:
        """GETs in one `composite/batch` call: [(status, body)] in order."""
        return self.call(lambda sf: self._batch(sf, urls, what), what=what)

    def _batch(
        self, sf: Salesforce, urls: list[str], what: str, *, queries: bool = False
    ) -> list[tuple[int, Any]]:
        """One composite/batch call, its answer checked inside the retried call (a garbled
        one is asked again); with `queries`, each successful sub-answer is a query page."""
        version = self.settings.api_version
        body = {"batchRequests": [{"method": "GET", "url": f"v{version}/{u}"} for u in urls]}
        answer = sf.restful("composite/batch", method="POST", json=body)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(urls):
            raise MalformedAnswer(f"salesforce: {what}: the batch answer has no result per call")
        if not all(isinstance(r, dict) and isinstance(r.get("statusCode"), int) for r in results):
            raise MalformedAnswer(f"salesforce: {what}: a batch result has no status")
        out = [(int(r["statusCode"]), r.get("result")) for r in results]
        if queries:
            out = [(code, query_page(b, what) if code < 400 else b) for code, b in out]
        return out

    def query_many(self, soqls: Sequence[str], *, what: str) -> list[list[Record]]:
        """The records of several small queries (IN-list chunks), in as few calls as
        `composite/batch` allows: 25 queries a call, their later pages in later batches.

        A look-up of a 2,000-record page is a couple of dozen chunk queries; one after
        another, their round trips are most of a backfill's wait. A query the batch refused
        runs again on its own, where its error is translated and retried as usual. A single
        query goes on its own at once: a batch around it would only cost more.
        """
        if len(soqls) == 1:
            return [self.query_all(soqls[0], what=what)]
        records: list[list[Record]] = [[] for _ in soqls]
        pending = [(n, self.query_url(soql)) for n, soql in enumerate(soqls)]
        while pending:
            chunk, pending = pending[:BATCH_LIMIT], pending[BATCH_LIMIT:]
            urls = [url for _, url in chunk]
            send = partial(self._batch, urls=urls, what=what, queries=True)
            answers = self.call(send, what=what)
            for (n, _), (status, page) in zip(chunk, answers, strict=True):
                if status >= 400:
                    records[n] = self.query_all(soqls[n], what=what)
                    continue
                records[n] += page["records"]
                if not page["done"]:
                    pending.append((n, _relative(page["nextRecordsUrl"])))
        return records

    @staticmethod
    def query_url(soql: str) -> str:
        return "query?q=" + quote(soql, safe="")

    # --- Bulk API 2.0, one retried call per step ---------------------------------------------
    # simple-salesforce's `query` generator hides the job id and the result locators, so a
    # failure half-way would restart the job from nothing. These calls expose each step, so
    # the backfill can checkpoint the job and every result page and resume where it stopped.

    def _bulk(self, sobject: str, fn: Callable[[Any], T], *, what: str) -> T:
        """One Bulk API 2.0 call on `sobject`'s job client, with governor, re-login (bulk
        never re-logs in by itself) and short retries; the calls only read."""

        def attempt() -> T:
            self.governor.acquire(max_wait_s=MAX_IN_CALL_WAIT_S)
            try:
                # a fresh handle carries the current session; the per-call client is private
                return fn(getattr(self.sf.bulk2, sobject)._client)
            except SalesforceExpiredSession as exc:
                self.refresh()
                raise RetriableError("salesforce: bulk session expired; logged in again") from exc
            except Exception as exc:
                raise translate(exc) from exc

        return self._with_retries(attempt, what=what, allow_in_doubt=True)

    def bulk_start(self, sobject: str, soql: str) -> str:
        """Create a Bulk API 2.0 query job; returns its id (an extra job is harmless)."""
        job = self._bulk(
            sobject,
            lambda c: c.create_job(Operation.query, soql),
            what=f"bulk:{sobject}:create",
        )
        return str(job["id"])

    def bulk_wait(self, sobject: str, job_id: str, *, fresh: bool = False) -> None:
        """Poll the job until it completed; raises BulkJobFailed when it failed or was aborted,
        RetriableError when it is still running after `BULK_MAX_WAIT_S`.

        The polls back off from `BULK_FIRST_POLL_S` to `bulk_poll_s`, as simple-salesforce's
        own wait does (0.5 s, growing to at most 2 s). The first is immediate (a job started
        with others may be done already) unless the job is `fresh`, created moments ago."""
        waited = 0.0
        delays = poll_delays(self.settings.bulk_poll_s)
        if fresh:
            self._sleep(first := next(delays))
            waited += max(first, 0.1)
        for delay in delays:
            info = self._bulk(
                sobject, lambda c: c.get_job(job_id, True), what=f"bulk:{sobject}:poll"
            )
            state = str(info.get("state"))
            if state == "JobComplete":
                return
            if state in ("Failed", "Aborted"):
                raise BulkJobFailed(f"salesforce: bulk {sobject} job {state.lower()}")
            if waited >= BULK_MAX_WAIT_S:
                raise RetriableError(f"salesforce: bulk {sobject} job still running")
            self._sleep(delay)
            waited += max(delay, 0.1)

    def bulk_page(self, sobject: str, job_id: str, locator: str) -> tuple[str, str]:
        """One CSV result page from `locator` ("" = the first); returns (csv, next locator),
        the next locator "" after the last page."""
        result = self._bulk(
            sobject,
            lambda c: c.get_query_results(job_id, locator, self.settings.bulk_page_size),
            what=f"bulk:{sobject}:results",
        )
        return str(result["records"]), str(result["locator"] or "")

    def close(self) -> None:
        self.session.close()
