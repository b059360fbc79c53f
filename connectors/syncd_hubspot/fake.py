"""A local HubSpot portal that hubspot-api-client cannot tell from the real one.

It serves the CRM endpoints syncd uses (see `fake_crm.py`), the OAuth token endpoint, bearer
authentication (private-app tokens and expiring OAuth tokens), the `X-HubSpot-RateLimit-*`
headers with a rolling 10-second and a daily budget, the separate 5 requests/s search limit,
and HubSpot's 429 bodies (`policyName`). Switches make it misbehave the way a portal does:
latency, 429 storms, 5xx, hanging calls, expired or revoked credentials, and writes that are
applied but whose response is lost.

Point the client at it with `HubSpot(access_token=..., host=fake.base_url)`.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from syncd.testing.httpfake import (
    FakeHTTPServer,
    Fault,
    FaultKind,
    LoggedRequest,
    RateLimit,
    Request,
    Response,
)
from syncd_hubspot import fake_admin, fake_crm
from syncd_hubspot.fake_store import ASSOCIATION_TYPES, Pipeline, Portal

_OBJ = r"/crm/v3/objects/(?P<obj>[\w-]+)"
_NOT_SEARCH = r"^(?!/oauth/)(?!.*/search$)"
TEN_SECONDLY = "TEN_SECONDLY_ROLLING"
SECONDLY = "SECONDLY"
DAILY = "DAILY"

RATE_LIMIT_MESSAGES = {
    TEN_SECONDLY: "You have reached your ten_secondly_rolling limit.",
    SECONDLY: "You have reached your secondly limit.",
    DAILY: "You have reached your daily limit.",
}


def rate_limit_body(policy: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": RATE_LIMIT_MESSAGES[policy],
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "groupName": f"api-calls-{policy.lower()}",
    }


class HubSpotFake(FakeHTTPServer):
    """Subclass of the shared fake server speaking HubSpot's dialect; see the module doc."""

    def __init__(
        self,
        port: int = 0,
        *,
        ten_second_limit: int = 190,
        daily_limit: int = 1_000_000,
        search_per_second: int = 5,
        index_delay_s: float = 0.0,
        token_lifetime_s: int = 1800,
        search_cap: int = fake_crm.SEARCH_CAP,
        first_id: int = 1001,
    ):
        super().__init__(port)
        self.portal = Portal(index_delay_s=index_delay_s, first_id=first_id)
        self.search_cap = search_cap
        self.token_lifetime_s = token_lifetime_s
        self.daily_limit = daily_limit
        self.daily_used = 0
        self.ten_second = RateLimit(ten_second_limit, 10.0, path=_NOT_SEARCH)
        self.search_limit = RateLimit(search_per_second, 1.0, path=r"/search$")
        self.rate_limits = [self.ten_second, self.search_limit]
        self.private_tokens: set[str] = set()
        self.oauth_clients: dict[str, str] = {}  # client id -> secret
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> client id
        self.access_tokens: dict[str, datetime] = {}  # oauth access token -> expiry
        self._search_cache = fake_crm.SearchCache()
        self.served: list[LoggedRequest] = []
        self.canary = ""  # planted in every OAuth access token issued (tests search for it)
        self._routes_crm()
        self.add_pipeline("default", "Sales Pipeline", default_pipeline())

    def handle(self, req: Request) -> Response | None:
        resp = super().handle(req)
        # Logged before the answer is written (the base logs after), so a client that has
        # its answer always finds its call in `served`.
        with self.lock:
            self.served.append(
                LoggedRequest(
                    req.method, req.path, resp.status if resp else 0, self.request_clock()
                )
            )
        return resp

    def start(self) -> HubSpotFake:
        super().start()
        # The base handler writes headers and body separately; without TCP_NODELAY each
        # answer can stall ~40 ms on Nagle + delayed ACK, which would swamp latency figures.
        assert self._server is not None
        handler: Any = self._server.RequestHandlerClass
        handler.disable_nagle_algorithm = True
        return self

    # --- clock and index -------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.portal.clock

    @clock.setter
    def clock(self, value: Callable[[], datetime]) -> None:
        self.portal.clock = value

    @property
    def index_delay_s(self) -> float:
        return self.portal.index_delay_s

    @index_delay_s.setter
    def index_delay_s(self, value: float) -> None:
        self.portal.index_delay_s = value

    # --- credentials -----------------------------------------------------------------------

    def add_private_app(self, token: str | None = None) -> str:
        token = token or f"pat-na1-{uuid.uuid4()}"
        self.private_tokens.add(token)
        return token

    def add_oauth_app(self, client_id: str, client_secret: str) -> str:
        """Register an app and return a refresh token for one installation."""
        self.oauth_clients[client_id] = client_secret
        refresh = f"na1-{uuid.uuid4()}"
        self.refresh_tokens[refresh] = client_id
        return refresh

    def expire_tokens(self) -> None:
        """Every OAuth access token issued so far expires now (refresh still works)."""
        with self.lock:
            past = self.clock() - timedelta(seconds=1)
            self.access_tokens = dict.fromkeys(self.access_tokens, past)

    def revoke(self) -> None:
        """The app is uninstalled: tokens and refresh tokens are refused from now on."""
        with self.lock:
            self.private_tokens.clear()
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    # --- switches --------------------------------------------------------------------------

    def storm(
        self,
        times: int,
        policy: str = TEN_SECONDLY,
        path: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """The next `times` matching calls answer 429 with `policy` (and `Retry-After`)."""
        headers = {"X-HubSpot-RateLimit-Remaining": "0"} if policy == TEN_SECONDLY else {}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        self.inject(
            Fault(
                FaultKind.STATUS,
                Response(429, rate_limit_body(policy), headers),
                path=path,
                times=times,
            )
        )

    def server_errors(self, times: int, status: int = 502, path: str | None = None) -> None:
        body = {"status": "error", "message": "internal error", "category": "INTERNAL_ERROR"}
        self.inject(Fault(FaultKind.STATUS, Response(status, body), path=path, times=times))

    def hang(self, times: int = 1, hold_s: float = 2.0, path: str | None = None) -> None:
        self.inject(Fault(FaultKind.TIMEOUT, hold_s=hold_s, path=path, times=times))

    def lose_responses(self, times: int = 1, path: str | None = None) -> None:
        """Apply the next `times` matching calls but never answer them."""
        self.inject(Fault(FaultKind.APPLIED_LOST, path=path, times=times))

    # --- dialect hooks ----------------------------------------------------------------------

    def rate_limited(self, req: Request) -> Response:
        policy = SECONDLY if req.path.endswith("/search") else TEN_SECONDLY
        return Response(429, rate_limit_body(policy))

    def not_found(self, req: Request) -> Response:
        return fake_crm.error(404, "OBJECT_NOT_FOUND", f"no route for {req.method} {req.path}")

    def is_write(self, req: Request) -> bool:
        """Searches, batch reads and token grants POST without changing the portal."""
        if req.method == "POST" and req.path.endswith(("/search", "/batch/read", "/token")):
            return False
        return super().is_write(req)

    def refuse_write(self, req: Request) -> Response:
        return fake_crm.error(403, "MISSING_SCOPES", "read-only portal: this fake refuses writes")

    def decorate(self, req: Request, resp: Response) -> None:
        """The usage headers: none on search and OAuth, no daily ones for OAuth apps."""
        if req.path.endswith("/search") or req.path.startswith("/oauth/"):
            return
        with self.lock:
            remaining = self.ten_second.remaining(time.monotonic())
            oauth = req.bearer in self.access_tokens
            daily_left = max(0, self.daily_limit - self.daily_used)
        resp.headers.setdefault("X-HubSpot-RateLimit-Max", str(self.ten_second.limit))
        resp.headers.setdefault("X-HubSpot-RateLimit-Remaining", str(remaining))
        resp.headers.setdefault("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
        if not oauth:
            resp.headers.setdefault("X-HubSpot-RateLimit-Daily", str(self.daily_limit))
            resp.headers.setdefault("X-HubSpot-RateLimit-Daily-Remaining", str(daily_left))

    # --- routing ---------------------------------------------------------------------------

    def _authorized(self, req: Request) -> Response | None:
        token = req.bearer
        if token in self.private_tokens:
            return None
        expiry = self.access_tokens.get(token or "")
        if expiry is not None and expiry > self.clock():
            return None
        if expiry is not None:
            ago = int((self.clock() - expiry).total_seconds())
            return fake_crm.error(
                401,
                "EXPIRED_AUTHENTICATION",
                f"The OAuth token used to make this call expired {ago} second(s) ago.",
            )
        return fake_crm.error(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        )

    def _crm(self, method: str, pattern: str, handler: Callable[..., Response]) -> None:
        def guarded(req: Request, **params: str) -> Response:
            with self.lock:
                refused = self._authorized(req)
                if refused is not None:
                    return refused
                if not req.path.endswith("/search"):
                    self.daily_used += 1
                    if self.daily_used > self.daily_limit:
                        return Response(429, rate_limit_body(DAILY))
                try:  # path segments arrive percent-encoded (e-mail addresses)
                    return handler(self.portal, req, **{k: unquote(v) for k, v in params.items()})
                except LookupError:
                    return self.not_found(req)

        self.route(method, pattern, guarded)

    def _routes_crm(self) -> None:
        c, a = fake_crm, fake_admin
        self._crm("POST", f"{_OBJ}/search", self._search)
        self._crm("POST", f"{_OBJ}/batch/read", c.batch_read)
        self._crm("POST", f"{_OBJ}/batch/create", c.batch_create)
        self._crm("POST", f"{_OBJ}/batch/update", c.batch_update)
        self._crm("POST", f"{_OBJ}/batch/archive", c.batch_archive)
        self._crm("POST", _OBJ, c.create_one)
        self._crm("GET", _OBJ, c.list_page)
        self._crm("GET", rf"{_OBJ}/(?P<rid>\d+)", c.get_one)
        self._crm("PATCH", rf"{_OBJ}/(?P<rid>\d+)", c.update_one)
        self._crm("DELETE", rf"{_OBJ}/(?P<rid>\d+)", c.archive_one)
        assoc = r"/crm/v4/associations/(?P<frm>[\w-]+)/(?P<to>[\w-]+)/batch/read"
        self._crm("POST", assoc, c.associations_batch_read)
        default = (
            r"/crm/v4/objects/(?P<frm>[\w-]+)/(?P<fid>\d+)/associations/default/"
            r"(?P<to>[\w-]+)/(?P<tid>\d+)"
        )
        self._crm("PUT", default, c.associate_default)
        self._crm("GET", r"/crm/v3/properties/(?P<obj>[\w-]+)", a.properties_all)
        self._crm("GET", r"/crm/v3/properties/(?P<obj>[\w-]+)/(?P<name>\w+)", a.property_one)
        self._crm("POST", r"/crm/v3/properties/(?P<obj>[\w-]+)", a.property_create)
        self._crm("GET", r"/crm/v3/pipelines/(?P<obj>[\w-]+)", a.pipelines_all)
        self._crm("GET", r"/crm/v3/pipelines/(?P<obj>[\w-]+)/(?P<pid>[\w-]+)", a.pipeline_one)
        self._crm("GET", r"/crm/v3/owners/?", a.owners_page)
        self._crm("POST", r"/crm/v3/lists/?", a.list_create)
        self._crm("GET", r"/crm/v3/lists/(?P<lid>\d+)", a.list_one)
        self._crm("PUT", r"/crm/v3/lists/(?P<lid>\d+)/memberships/add", a.list_add)
        self._crm("GET", r"/crm/v3/lists/(?P<lid>\d+)/memberships", a.list_members)
        prefs = "/communication-preferences"
        self._crm("GET", f"{prefs}/v3/definitions", a.definitions)
        self._crm("GET", rf"{prefs}/v3/status/email/(?P<email>[^/]+)", a.status_v3)
        self._crm("POST", f"{prefs}/v4/statuses/batch/read", a.statuses_batch_read)
        self._crm(
            "POST", rf"{prefs}/v4/statuses/(?P<subscriber>[^/]+)/unsubscribe-all", a.unsubscribe_all
        )
        self.route("POST", r"/oauth/v1/token", self._token)

    def _search(self, portal: Portal, req: Request, obj: str) -> Response:
        return fake_crm.search(portal, req, obj, self._search_cache, self.search_cap)

    def _token(self, req: Request) -> Response:
        form = req.form()
        with self.lock:
            client = form.get("client_id", "")
            if self.oauth_clients.get(client) != form.get("client_secret") or not client:
                return Response(
                    400,
                    {
                        "status": "BAD_CLIENT_ID",
                        "message": "missing or unknown client id or secret",
                        "correlationId": str(uuid.uuid4()),
                    },
                )
            refresh = form.get("refresh_token", "")
            if (
                form.get("grant_type") != "refresh_token"
                or self.refresh_tokens.get(refresh) != client
            ):
                return Response(
                    400,
                    {
                        "status": "BAD_REFRESH_TOKEN",
                        "message": "missing or unknown refresh token",
                        "correlationId": str(uuid.uuid4()),
                    },
                )
            access = f"CJ{self.canary}{secrets.token_urlsafe(24)}"
            self.access_tokens[access] = self.clock() + timedelta(seconds=self.token_lifetime_s)
        return Response(
            200,
            {
                "token_type": "bearer",
                "refresh_token": refresh,
                "access_token": access,
                "expires_in": self.token_lifetime_s,
            },
        )

    # --- convenience set-up (a portal's admin would do these in the UI) -------------------

    def add_pipeline(
        self, pipeline_id: str, label: str, stages: list[tuple[str, str, float, bool]]
    ) -> None:
        """Stages as (id, label, probability, is_closed)."""
        with self.lock:
            self.portal.pipelines["deals"].append(
                Pipeline(
                    pipeline_id,
                    label,
                    [
                        {"id": s, "label": lbl, "probability": p, "closed": c}
                        for s, lbl, p, c in stages
                    ],
                    display_order=len(self.portal.pipelines["deals"]),
                )
            )

    def seed(
        self,
        object_type: str,
        properties: dict[str, Any],
        links: list[tuple[str, str]] | None = None,
        *,
        modified_at: datetime | None = None,
        visible_at: datetime | None = None,
    ) -> str:
        """Create a record without an HTTP call (bulk set-up). `links` are (type, id) pairs
        associated with the default type; `modified_at` back-dates its last modification;
        search sees it from `visible_at` on (default: at once)."""
        with self.lock:
            record = self.portal.create(object_type, properties, at=modified_at)
            for to_type, to_id in links or []:
                type_id = ASSOCIATION_TYPES[(object_type, to_type)]
                self.portal.associate(object_type, record.id, to_type, to_id, type_id)
            self.portal.index_at(record, visible_at)
            return record.id

    def add_property_options(self, object_type: str, name: str, *options: str) -> None:
        """An admin adding values to an enumeration (e.g. custom lead statuses)."""
        with self.lock:
            prop = self.portal.schema[object_type][name]
            prop.options = (*prop.options, *[o for o in options if o not in prop.options])

    def add_owner(self, email: str, *, archived: bool = False, owner_id: str | None = None) -> str:
        """A user who can own records (a sales rep, or the integration's own user);
        `archived` is a deactivated user: records keep pointing at them."""
        with self.lock:
            owner_id = owner_id or str(70_000_000 + len(self.portal.owners) + 1)
            stamp = fake_crm.stamp()
            self.portal.owners[owner_id] = {
                "id": owner_id,
                "email": email,
                "firstName": email.split("@")[0],
                "lastName": "",
                "userId": int(owner_id) - 60_000_000,
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": archived,
            }
            return owner_id

    def archive_owner(self, owner_id: str) -> None:
        with self.lock:
            self.portal.owners[owner_id]["archived"] = True

    def unsubscribe_all(self, email: str) -> None:
        """A contact clicking "unsubscribe from all" in an e-mail footer."""
        with self.lock:
            self.portal.unsubscribe_all(email)

    def add_subscription(self, subscription_id: str, name: str) -> None:
        with self.lock:
            self.portal.subscriptions[subscription_id] = name

    def task_keys(self) -> list[str]:
        """The syncd idempotency key of every task in the portal that has one (one entry per
        task: a key twice is a duplicate write)."""
        with self.lock:
            records = self.portal.records["tasks"].values()
            return [str(r.props["syncd_key"]) for r in records if r.props.get("syncd_key")]


def default_pipeline() -> list[tuple[str, str, float, bool]]:
    """The stages every portal's built-in sales pipeline starts with."""
    return [
        ("appointmentscheduled", "Appointment Scheduled", 0.2, False),
        ("qualifiedtobuy", "Qualified To Buy", 0.4, False),
        ("presentationscheduled", "Presentation Scheduled", 0.6, False),
        ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False),
        ("contractsent", "Contract Sent", 0.9, False),
        ("closedwon", "Closed Won", 1.0, True),
        ("closedlost", "Closed Lost", 0.0, True),
    ]
