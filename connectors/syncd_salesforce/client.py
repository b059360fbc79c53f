"""One authenticated simple-salesforce client per shard, with the safety nets the library lacks.

Every call goes through `call`: the rate governor first (syncd keeps to its share of the
org's daily requests), then the call, its exception translated in `errors.translate`, then
short in-call retries for transient failures. Waits longer than a short back-off (the daily
budget, a spent share) are raised at once so the shard pauses instead of blocking the daemon.
REST calls re-login on an expired session inside the library; Bulk API 2.0 does not, so
`bulk_query` logs in again itself and restarts the job on a fresh handle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote

import structlog
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from syncd.connectors import ConfigError, MalformedAnswer, RetriableError, SyncError
from syncd.retry import RateGovernor, call_with_retry
from syncd.secrets import SecretError, register
from syncd_salesforce.errors import QueryLocatorExpired, translate
from syncd_salesforce.settings import SalesforceSettings
from syncd_salesforce.transport import UsageWatcher, build_session

T = TypeVar("T")
log = structlog.get_logger(__name__)
MAX_IN_CALL_WAIT_S = 30.0  # longer waits end the call: the engine backs the shard off
Record = dict[str, Any]


class _GiveUp(Exception):
    """Carries an error out of the retry loop without further attempts."""

    def __init__(self, error: SyncError):
        super().__init__(str(error))
        self.error = error


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
        version = self.settings.api_version
        body = {"batchRequests": [{"method": "GET", "url": f"v{version}/{u}"} for u in urls]}
        answer = self.restful(
            "composite/batch", method="POST", json=body, what=what, resend_safe=True
        )
        return [(int(r["statusCode"]), r["result"]) for r in answer["results"]]

    @staticmethod
    def query_url(soql: str) -> str:
        return "query?q=" + quote(soql, safe="")

    def bulk_query(
        self,
        sobject: str,
        soql: str,
        *,
        on_page: Callable[[str], None],
        on_restart: Callable[[], None],
    ) -> None:
        """Run a Bulk API 2.0 query job, handing each CSV page to `on_page`.

        A restart (expired session, transient failure) calls `on_restart` first, so the
        consumer drops what it kept from the failed attempt.
        """
        attempts = 0

        def run_job() -> None:
            nonlocal attempts
            if attempts:
                on_restart()
            attempts += 1
            self.governor.acquire(max_wait_s=MAX_IN_CALL_WAIT_S)
            try:
                try:
                    self._bulk_pages(sobject, soql, on_page)
                except SalesforceExpiredSession:
                    on_restart()
                    self.refresh()  # bulk never re-logs in by itself, and locators die with it
                    self._bulk_pages(sobject, soql, on_page)
            except SyncError:
                raise
            except Exception as exc:
                raise translate(exc) from exc

        self._with_retries(run_job, what=f"bulk:{sobject}", allow_in_doubt=False)

    def _bulk_pages(self, sobject: str, soql: str, on_page: Callable[[str], None]) -> None:
        handle = getattr(self.sf.bulk2, sobject)  # a fresh handle carries the current session
        pages = handle.query(
            soql, max_records=self.settings.bulk_page_size, wait=self.settings.bulk_poll_s
        )
        for count, page in enumerate(pages, 1):
            on_page(page)
            log.debug("salesforce.bulk_page", sobject=sobject, page=count)

    def close(self) -> None:
        self.session.close()
