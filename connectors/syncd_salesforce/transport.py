"""The HTTP session simple-salesforce runs on: timeouts, TLS, usage headers, local redirection.

simple-salesforce sets no timeout (a stalled socket hangs the daemon for hours), builds every
URL as https on the instance host, and only parses `Sforce-Limit-Info` on some calls. One
transport adapter fixes all of it for every request the library makes, bulk included: a
timeout, verification that cannot be switched off (with an optional CA bundle for a
TLS-inspecting proxy), and — only when `base_url` is set, which the sandbox and tests do —
the URL rewritten to the local fake. A response hook feeds the usage header to the governor.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import structlog
from requests.adapters import HTTPAdapter

from syncd import httpstats
from syncd_salesforce.settings import SalesforceSettings

log = structlog.get_logger(__name__)
_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")
DAY_S = 86_400.0


class SalesforceAdapter(HTTPAdapter):
    def __init__(self, *, timeout_s: float, verify: str | bool, base_url: str | None):
        super().__init__()
        self.timeout_s = timeout_s
        self.verify = verify
        self.base_url = base_url

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if self.base_url and request.url:
            _scheme, _, rest = request.url.partition("://")
            path = rest.split("/", 1)[1] if "/" in rest else ""
            request.url = f"{self.base_url}/{path}"
        try:
            response = super().send(
                request,
                stream=stream,
                timeout=timeout if timeout is not None else self.timeout_s,
                verify=self.verify,  # never False, whatever the caller or the environment says
                cert=cert,
                proxies=proxies,
            )
        except Exception:
            httpstats.response("salesforce", None)
            raise
        httpstats.response("salesforce", response.status_code)
        return response


class UsageWatcher:
    """Reads `Sforce-Limit-Info` from every response; logs headroom when it moves a step."""

    def __init__(self, observe: Callable[[str, int, int, float], None], share: float):
        self._observe = observe
        self._share = share
        self._last_step: int | None = None
        self.used: int | None = None
        self.limit: int | None = None
        # The Retry-After of the last refused answer on this thread: simple-salesforce's
        # exceptions drop the headers, so the client reads it from here.
        self._refused = threading.local()

    def take_retry_after(self) -> float | None:
        """The Retry-After (seconds) of this thread's last 429/503 answer, once."""
        wait: float | None = getattr(self._refused, "retry_after_s", None)
        self._refused.retry_after_s = None
        return wait

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code in (429, 503):
            self._refused.retry_after_s = retry_after_s(response.headers.get("Retry-After"))
        header = response.headers.get("Sforce-Limit-Info")
        if not header:
            return
        match = _USAGE.search(header)
        if match is None:
            return
        used, limit = int(match.group(1)), int(match.group(2))
        self.used, self.limit = used, limit
        self._observe("api-usage", used, limit, DAY_S)
        if not limit:
            return
        headroom = max(0.0, self._share - used / limit) / self._share  # of syncd's share
        step = int(headroom * 20)  # log every 5 % of the share
        if step != self._last_step:
            self._last_step = step
            log.info(
                "quota.headroom",
                budget="api-usage",
                used=used,
                limit=limit,
                share=self._share,
                headroom=round(headroom, 3),
            )


def retry_after_s(header: str | None) -> float | None:
    """A Retry-After header in seconds (delta-seconds or an HTTP date), else None."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def build_session(settings: SalesforceSettings, watcher: UsageWatcher) -> requests.Session:
    session = requests.Session()
    adapter = SalesforceAdapter(
        timeout_s=settings.timeout_s,
        verify=settings.ca_bundle or True,
        base_url=settings.base_url,
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.hooks["response"].append(watcher)
    return session
