"""A local Microsoft Graph that msal and requests cannot tell from the real one.

Serves the Microsoft identity platform under `/login/{tenant}/…` (OpenID configuration and
the v2.0 token endpoint: client credentials by secret or by certificate assertion) and Graph
v1.0 under `/graph/v1.0/…`: Inbox message delta with OData paging (`@odata.nextLink`,
`@odata.deltaLink`, `Prefer: odata.maxpagesize`), `$select`, `$filter` (`field eq 'value'`
joined by `and`) and `$top` on folder listings, messages get / PATCH (categories),
`createReply` drafts with internet message headers, master categories and `$batch` (up to 20).
Errors use Graph's bodies: 401 InvalidAuthenticationToken, 403 ErrorAccessDenied (the
application access policy), 404 ErrorItemNotFound, 410 syncStateNotFound, 429
ApplicationThrottled with Retry-After.

Switches: `expire_delta()` (every delta and skip token answers 410), `expire_tokens()` (every
access token issued so far answers 401), `revoke(client_id)`, `throttle()`, `server_errors()`,
`mailbox_requests_per_10_min` and `mailbox_concurrency` (Graph's per-mailbox limits, off by
default) and the base class's latency and fault schedule.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from syncd.testing.httpfake import FakeHTTPServer, Fault, FaultKind, Request, Response
from syncd_m365.fake_store import FOLDERS, Mailbox, StoredMessage

BATCH_MAX = 20
TOKEN_LIFETIME_S = 3600
_USER = r"/graph/v1.0/users/(?P<user>[^/]+)"
_FILTER = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$")
_FILTERABLE = {"conversationId": "conversation_id", "isDraft": "is_draft"}


def graph_error(status: int, code: str, message: str = "", **headers: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message or code}}, headers)


@dataclass
class App:
    client_id: str
    secret: str | None
    public_key: str | None  # PEM, for certificate assertions
    mailboxes: set[str]  # the application access policy's scope
    revoked: bool = False


@dataclass
class _Tokens:
    issued: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (app, expiry)


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class FakeGraph(FakeHTTPServer):
    """Microsoft Graph v1.0 (mail) + the identity platform's token endpoint, on 127.0.0.1."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, first_message_id: int = 1):
        super().__init__(port, host)
        self.first_message_id = first_message_id
        self.apps: dict[str, App] = {}
        self.mailboxes: dict[str, Mailbox] = {}
        self.tokens = _Tokens()
        self.canary = ""  # planted in every access token issued (tests search logs for it)
        self.inner_requests: list[tuple[str, str, int]] = []  # (method, path, status) in $batch
        self.mailbox_requests_per_10_min: int | None = None
        self.mailbox_concurrency: int | None = None
        self._window: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}
        self._gate = threading.Lock()
        self._register_routes()

    def _register_routes(self) -> None:
        self.route(
            "GET", r"/login/(?P<tenant>[^/]+)/v2.0/.well-known/openid-configuration", self._openid
        )
        self.route("POST", r"/login/(?P<tenant>[^/]+)/oauth2/v2.0/token", self._token)
        self.route("POST", r"/graph/v1.0/\$batch", self._batch)
        self.route("GET", _USER + r"/mailFolders/(?P<folder>\w+)", self._folder)
        self.route("GET", _USER + r"/mailFolders/inbox/messages/delta", self._delta)
        self.route("GET", _USER + r"/mailFolders/(?P<folder>\w+)/messages", self._list)
        self.route("POST", _USER + r"/messages", self._create_draft)
        self.route("GET", _USER + r"/messages/(?P<mid>[^/]+)", self._get)
        self.route("PATCH", _USER + r"/messages/(?P<mid>[^/]+)", self._patch)
        self.route("POST", _USER + r"/messages/(?P<mid>[^/]+)/createReply", self._create_reply)
        self.route("GET", _USER + r"/outlook/masterCategories", self._categories)
        self.route("POST", _USER + r"/outlook/masterCategories", self._add_category)

    # --- set-up ------------------------------------------------------------------------------

    def mailbox(self, address: str, *, first_message_id: int | None = None) -> Mailbox:
        address = address.lower()
        with self.lock:
            if address not in self.mailboxes:
                start = first_message_id if first_message_id is not None else self.first_message_id
                self.mailboxes[address] = Mailbox(address, start)
            return self.mailboxes[address]

    def register_app(
        self, mailboxes: set[str], *, secret: str | None = None, public_key: str | None = None
    ) -> str:
        client_id = f"app-{secrets.token_hex(6)}"
        with self.lock:
            self.apps[client_id] = App(
                client_id, secret, public_key, {m.lower() for m in mailboxes}
            )
        return client_id

    def seed_message(
        self,
        mailbox: str,
        *,
        folder: str,
        sender: str,
        sender_name: str = "",
        to: str,
        subject: str,
        text: str,
        conversation_id: str,
        received: datetime | None = None,
        html: str | None = None,
        headers: list[dict[str, str]] | None = None,
        internet_message_id: str | None = None,
    ) -> StoredMessage:
        """Deliver a message; `internet_message_id` when the same message reached another
        mailbox too (else a new one)."""
        box = self.mailbox(mailbox)
        with box.lock:
            mid = box.new_id()
            return box.add(
                StoredMessage(
                    id=mid,
                    folder=folder,
                    conversation_id=conversation_id,
                    sender_name=sender_name,
                    sender=sender.lower(),
                    to=to.lower(),
                    subject=subject,
                    text=text,
                    html=html,
                    received=received or datetime.now(UTC),
                    internet_message_id=internet_message_id
                    or f"<{mid}.{secrets.token_hex(4)}@fake.outlook>",
                    headers=headers or [],
                )
            )

    def start(self) -> FakeGraph:
        super().start()
        return self

    # --- switches ----------------------------------------------------------------------------

    def expire_delta(self, mailbox: str) -> None:
        box = self.mailbox(mailbox)
        with box.lock:
            box.epoch += 1

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now (the app gets new ones as before)."""
        with self.lock:
            self.tokens.issued = {t: (app, 0.0) for t, (app, _) in self.tokens.issued.items()}

    def revoke(self, client_id: str) -> None:
        with self.lock:
            self.apps[client_id].revoked = True
            self.tokens.issued = {t: v for t, v in self.tokens.issued.items() if v[0] != client_id}

    def restore(self, client_id: str) -> None:
        with self.lock:
            self.apps[client_id].revoked = False

    def throttle(self, times: int = 1, path: str | None = r"^/graph/") -> None:
        self.inject(Fault(FaultKind.STATUS, self._throttled(1), path=path, times=times))

    def server_errors(self, times: int = 1, path: str | None = r"^/graph/") -> None:
        self.inject(
            Fault(FaultKind.STATUS, graph_error(503, "serviceNotAvailable"), path=path, times=times)
        )

    # --- the base class's hooks --------------------------------------------------------------

    def _throttled(self, retry_after: int) -> Response:
        return graph_error(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
            **{"Retry-After": str(retry_after)},
        )

    def rate_limited(self, req: Request) -> Response:
        return self._throttled(1)

    def not_found(self, req: Request) -> Response:
        return graph_error(400, "BadRequest", f"Resource not found for the segment {req.path}")

    def is_write(self, req: Request) -> bool:
        if req.path.endswith("/$batch"):
            body = req.json() or {}
            return any(r.get("method", "GET") != "GET" for r in body.get("requests") or [])
        return req.method not in ("GET", "HEAD") and "/token" not in req.path

    # --- identity platform -------------------------------------------------------------------

    def _openid(self, req: Request, tenant: str) -> Response:
        root = f"https://login.microsoftonline.com/{tenant}"
        return Response(
            200,
            {
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            },
        )

    def _token(self, req: Request, tenant: str) -> Response:
        form = req.form()
        with self.lock:
            app = self.apps.get(form.get("client_id", ""))
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        if app is None or app.revoked or not self._authenticated(app, form):
            return Response(401, {"error": "invalid_client", "error_description": "AADSTS7000215"})
        if form.get("scope", "").split() != ["https://graph.microsoft.com/.default"]:
            return Response(400, {"error": "invalid_scope"})
        token = self.canary + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens.issued[token] = (app.client_id, time.time() + TOKEN_LIFETIME_S)
        return Response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_S,
                "access_token": token,
            },
        )

    @staticmethod
    def _authenticated(app: App, form: dict[str, str]) -> bool:
        if "client_secret" in form:
            return app.secret is not None and secrets.compare_digest(
                form["client_secret"], app.secret
            )
        assertion = form.get("client_assertion")
        if not assertion or app.public_key is None:
            return False
        try:
            claims = jwt.decode(
                assertion,
                app.public_key,
                algorithms=["RS256", "PS256"],
                options={"verify_aud": False},
            )
        except jwt.PyJWTError:
            return False
        return bool(claims.get("sub") == app.client_id)

    # --- dispatch with Graph's checks --------------------------------------------------------

    def handle(self, req: Request) -> Response | None:
        if not req.path.startswith("/graph/") or req.path.endswith("/$batch"):
            return super().handle(req)
        denied = self._authorize(req)
        if denied is not None:
            return denied
        mailbox = _mailbox_of(req.path)
        refused = self._admit(mailbox, 1)
        if refused is not None:
            return refused
        try:
            return super().handle(req)
        finally:
            self._leave(mailbox)

    def _authorize(self, req: Request) -> Response | None:
        token = req.bearer
        now = time.time()
        with self.lock:
            issued = self.tokens.issued.get(token or "")
            if issued is None or issued[1] < now:
                return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
            app = self.apps[issued[0]]
        mailbox = _mailbox_of(req.path)
        if mailbox is not None and mailbox not in app.mailboxes:
            return graph_error(403, "ErrorAccessDenied", "Access to OData is disabled.")
        return None

    def _admit(self, mailbox: str | None, cost: int) -> Response | None:
        if mailbox is None:
            return None
        with self._gate:
            limit = self.mailbox_requests_per_10_min
            if limit is not None:
                hits = self._window.setdefault(mailbox, deque())
                now = time.monotonic()
                while hits and now - hits[0] >= 600:
                    hits.popleft()
                if len(hits) + cost > limit:
                    return self._throttled(int(600 - (now - hits[0])) + 1 if hits else 1)
                hits.extend([now] * cost)
            busy = self._in_flight.get(mailbox, 0)
            if self.mailbox_concurrency is not None and busy >= self.mailbox_concurrency:
                return self._throttled(1)
            self._in_flight[mailbox] = self._in_flight.get(mailbox, 0) + 1
        return None

    def _leave(self, mailbox: str | None) -> None:
        if mailbox is None:
            return
        with self._gate:
            self._in_flight[mailbox] = max(0, self._in_flight.get(mailbox, 0) - 1)

    def _batch(self, req: Request) -> Response:
        body = req.json() or {}
        inner = body.get("requests") or []
        if not isinstance(inner, list) or not inner or len(inner) > BATCH_MAX:
            return graph_error(400, "BadRequest", f"a batch holds 1 to {BATCH_MAX} requests")
        responses = []
        for item in inner:
            url = str(item.get("url", ""))
            parts = urlsplit(url if url.startswith("/") else "/" + url)
            headers = Message()
            for name, value in {**dict(req.headers.items()), **(item.get("headers") or {})}.items():
                headers[name] = value
            payload = item.get("body")
            sub = Request(
                str(item.get("method", "GET")),
                "/graph/v1.0" + parts.path,
                parse_qs(parts.query),
                headers,
                json.dumps(payload).encode() if payload is not None else b"",
            )
            resp = self._authorize(sub) or self._admit(_mailbox_of(sub.path), 1)
            if resp is None:
                try:
                    resp = self._apply(sub)
                finally:
                    self._leave(_mailbox_of(sub.path))
            with self.lock:
                self.inner_requests.append((sub.method, sub.path, resp.status))
            responses.append(
                {
                    "id": item.get("id"),
                    "status": resp.status,
                    "headers": resp.headers,
                    "body": resp.body,
                }
            )
        return Response(200, {"responses": responses})

    # --- mail --------------------------------------------------------------------------------

    def _box(self, user: str) -> Mailbox | None:
        with self.lock:
            return self.mailboxes.get(user.lower())

    def _folder(self, req: Request, user: str, folder: str) -> Response:
        box = self._box(user)
        if box is None or folder.lower() not in FOLDERS:
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found.")
        with box.lock:
            count = sum(1 for m in box.messages.values() if m.folder == folder.lower())
        return Response(200, {"id": folder.lower(), "displayName": folder, "totalItemCount": count})

    def _delta(self, req: Request, user: str) -> Response:
        box = self._box(user)
        if box is None:
            return graph_error(404, "ErrorItemNotFound")
        size = _page_size(req)
        state = None
        for name in ("$deltatoken", "$skiptoken"):
            raw = req.arg(name)
            if raw is not None:
                state = _decode(raw)
                if state is None:
                    return graph_error(400, "BadRequest", f"malformed {name}")
        with box.lock:
            if state is not None and state.get("epoch") != box.epoch:
                return graph_error(410, "syncStateNotFound", "The sync state is no longer valid.")
            if state is None or "upto" not in state:  # a fresh round
                since = int(state["since"]) if state else 0
                select = (state or {}).get("select") or req.arg("$select") or ""
                state = {
                    "since": since,
                    "upto": box.seq,
                    "after": [0, ""],
                    "epoch": box.epoch,
                    "select": select,
                }
            since, upto = int(state["since"]), int(state["upto"])
            after = (int(state["after"][0]), str(state["after"][1]))
            changed = sorted(
                (
                    m
                    for m in box.messages.values()
                    if since < m.seq <= upto
                    and (m.seq, m.id) > after
                    and (m.folder == "inbox" or since > 0)
                ),
                key=lambda m: (m.seq, m.id),
            )
            chunk = changed[:size]
            prefer_text = _prefer_text(req)
            items = [
                _select(m.resource(prefer_text), state["select"])
                if m.folder == "inbox"
                else {"id": m.id, "@removed": {"reason": "deleted"}}
                for m in chunk
            ]
            link = f"{self.base_url}/graph/v1.0/users/{user}/mailFolders/inbox/messages/delta"
            answer: dict[str, Any] = {"value": items}
            if len(changed) > size:
                last = chunk[-1]
                nxt = {**state, "after": [last.seq, last.id]}
                answer["@odata.nextLink"] = f"{link}?$skiptoken={_encode(nxt)}"
            else:
                token = _encode({"since": upto, "epoch": box.epoch, "select": state["select"]})
                answer["@odata.deltaLink"] = f"{link}?$deltatoken={token}"
        return Response(200, answer)

    def _list(self, req: Request, user: str, folder: str) -> Response:
        box = self._box(user)
        if box is None or folder.lower() not in FOLDERS:
            return graph_error(404, "ErrorItemNotFound")
        try:
            wanted = _filters(req.arg("$filter") or "")
        except ValueError as exc:
            return graph_error(400, "BadRequest", str(exc))
        top = int(req.arg("$top") or 10)
        skip = int(req.arg("$skip") or 0)
        with box.lock:
            found = [
                m
                for m in sorted(box.messages.values(), key=lambda m: m.id)
                if m.folder == folder.lower()
                and all(str(getattr(m, attr)).lower() == value.lower() for attr, value in wanted)
            ]
            page_ = found[skip : skip + top]
            items = [
                _select(m.resource(_prefer_text(req)), req.arg("$select") or "") for m in page_
            ]
        answer: dict[str, Any] = {"value": items}
        if skip + top < len(found):
            query = "&".join(f"{k}={v[0]}" for k, v in req.query.items() if k != "$skip")
            answer["@odata.nextLink"] = (
                f"{self.base_url}{req.path}?{query}&$skip={skip + top}".replace("?&", "?")
            )
        return Response(200, answer)

    def _message(self, user: str, mid: str) -> StoredMessage | None:
        box = self._box(user)
        if box is None:
            return None
        with box.lock:
            return box.messages.get(mid)

    def _get(self, req: Request, user: str, mid: str) -> Response:
        message = self._message(user, mid)
        if message is None:
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found.")
        return Response(200, _select(message.resource(_prefer_text(req)), req.arg("$select") or ""))

    def _patch(self, req: Request, user: str, mid: str) -> Response:
        box = self._box(user)
        message = self._message(user, mid)
        if box is None or message is None:
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found.")
        body = req.json() or {}
        if set(body) - {"categories", "body"}:
            return graph_error(400, "ErrorInvalidProperty", "read-only property")
        with box.lock:
            if "categories" in body:
                message.categories = [str(c) for c in body["categories"]]
            if "body" in body:
                message.text = str(body["body"].get("content", ""))
            box.touch(message)
        return Response(200, message.resource(False))

    def _create_reply(self, req: Request, user: str, mid: str) -> Response:
        box = self._box(user)
        parent = self._message(user, mid)
        if box is None or parent is None:
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found.")
        body = req.json() or {}
        draft = body.get("message") or {}
        headers = draft.get("internetMessageHeaders") or []
        for header in headers:
            if not str(header.get("name", "")).lower().startswith("x-"):
                return graph_error(
                    400,
                    "InvalidInternetMessageHeader",
                    "The internet message header name should start with 'x-' or 'X-'.",
                )
        content = (draft.get("body") or {}).get("content") or body.get("comment") or ""
        with box.lock:
            new = StoredMessage(
                id=box.new_id(),
                folder="drafts",
                conversation_id=parent.conversation_id,
                sender_name="",
                sender=box.address,
                to=parent.sender,
                subject=_reply_subject(parent.subject),
                text=str(content),
                html=None,
                received=datetime.now(UTC),
                internet_message_id="",
                headers=[{"name": str(h["name"]), "value": str(h["value"])} for h in headers],
                is_draft=True,
            )
            box.add(new)
        return Response(201, new.resource(True))

    def _create_draft(self, req: Request, user: str) -> Response:
        box = self._box(user)
        if box is None:
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found.")
        body = req.json() or {}
        to = ((body.get("toRecipients") or [{}])[0].get("emailAddress") or {}).get("address", "")
        with box.lock:
            new = StoredMessage(
                id=box.new_id(),
                folder="drafts",
                conversation_id=f"conv-{box.new_id()}",
                sender_name="",
                sender=box.address,
                to=str(to),
                subject=str(body.get("subject", "")),
                text=str((body.get("body") or {}).get("content", "")),
                html=None,
                received=datetime.now(UTC),
                internet_message_id="",
                headers=[
                    {"name": str(h["name"]), "value": str(h["value"])}
                    for h in body.get("internetMessageHeaders") or []
                ],
                is_draft=True,
            )
            box.add(new)
        return Response(201, new.resource(True))

    def _categories(self, req: Request, user: str) -> Response:
        box = self._box(user)
        if box is None:
            return graph_error(404, "ErrorItemNotFound")
        with box.lock:
            return Response(200, {"value": list(box.categories)})

    def _add_category(self, req: Request, user: str) -> Response:
        box = self._box(user)
        if box is None:
            return graph_error(404, "ErrorItemNotFound")
        body = req.json() or {}
        name = str(body.get("displayName", ""))
        with box.lock:
            if any(c["displayName"].lower() == name.lower() for c in box.categories):
                return graph_error(409, "ErrorDuplicateCategory", "already exists")
            category = {
                "id": secrets.token_hex(8),
                "displayName": name,
                "color": str(body.get("color", "preset0")),
            }
            box.categories.append(category)
        return Response(201, category)


def _reply_subject(subject: str) -> str:
    return subject if re.match(r"^\s*re:", subject, re.IGNORECASE) else "RE: " + subject


def _mailbox_of(path: str) -> str | None:
    match = re.match(_USER, path)
    return match.group("user").lower() if match else None


def _page_size(req: Request) -> int:
    match = re.search(r"odata\.maxpagesize=(\d+)", req.headers.get("Prefer", "") or "")
    return max(1, int(match.group(1))) if match else 10


def _prefer_text(req: Request) -> bool:
    return 'outlook.body-content-type="text"' in (req.headers.get("Prefer", "") or "")


def _select(resource: dict[str, Any], select: str) -> dict[str, Any]:
    if not select:
        return {k: v for k, v in resource.items() if k != "internetMessageHeaders"}
    fields = {f.strip() for f in select.split(",") if f.strip()} | {"id"}
    return {k: v for k, v in resource.items() if k in fields}


def _filters(expression: str) -> list[tuple[str, str]]:
    """`conversationId eq 'x' and isDraft eq 'true'` -> [(attribute, value)]."""
    if not expression:
        return []
    wanted = []
    for clause in re.split(r"\s+and\s+", expression):
        match = _FILTER.match(clause)
        if match is None or match.group(1) not in _FILTERABLE:
            raise ValueError(f"unsupported $filter clause: {clause!r}")
        wanted.append((_FILTERABLE[match.group(1)], match.group(2).replace("''", "'")))
    return wanted
