"""A local Gmail that google-api-python-client cannot tell from the real one.

Serves the Gmail v1 paths under `gmail/v1/users/{userId}/…` (point the client at it with
`client_options={"api_endpoint": fake.base_url + "/"}`), the batch endpoint
`/batch/gmail/v1`, Google's OAuth token endpoint `/token` and consent screen
`/o/oauth2/auth`. Answers use Google's error bodies (401 authError, 403 reasons, 404 notFound,
429 rateLimitExceeded) and count the per-user quota units each method costs.

Switches for tests and the sandbox: `latency_s`, `user_units_per_minute`, `quota_errors()`,
`server_errors()`, `expire_tokens()`, `revoke()`, `expire_history()`, and the base class's
fault schedule (timeouts, dropped connections, applied-but-lost responses).
"""

from __future__ import annotations

import base64
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from syncd.testing.httpfake import (
    FakeHTTPServer,
    Fault,
    FaultKind,
    LoggedRequest,
    Request,
    Response,
    garble,
)
from syncd_gmail.fake_batch import MAX_CALLS, BatchFormatError, parse_batch, render_batch
from syncd_gmail.fake_oauth import OAuthError, OAuthServer
from syncd_gmail.fake_payload import FORMATS, find_attachment, reference, render
from syncd_gmail.fake_search import SearchSyntaxError
from syncd_gmail.fake_store import Mailbox, MailboxError, StoredMessage
from syncd_gmail.fake_wire import (
    JSON,
    b64decode,
    build_message,
    google_error,
    history_record,
    page,
    parse_related,
    quota_error,
    short,
)

SCOPE = "https://www.googleapis.com/auth/"
FULL = "https://mail.google.com/"
MODIFY = SCOPE + "gmail.modify"
READ = frozenset({FULL, MODIFY, SCOPE + "gmail.readonly"})
METADATA = READ | {SCOPE + "gmail.metadata"}
LABELS = frozenset({FULL, MODIFY, SCOPE + "gmail.labels"})
WRITE = frozenset({FULL, MODIFY})
COMPOSE = frozenset({FULL, MODIFY, SCOPE + "gmail.compose"})
INSERT = frozenset({FULL, MODIFY, SCOPE + "gmail.insert"})
_USER = r"/gmail/v1/users/(?P<user>[^/]+)"
_UPLOAD = r"/upload/gmail/v1/users/(?P<user>[^/]+)"


class _Sliding:
    """Units that arrived in the last `span` seconds, oldest first, with their total."""

    def __init__(self, span: float):
        self.span = span
        self.total = 0
        self.arrived: deque[tuple[float, int]] = deque()

    def evict(self, now: float) -> None:
        while self.arrived and now - self.arrived[0][0] >= self.span:
            self.total -= self.arrived.popleft()[1]

    def oldest(self) -> float:
        return self.arrived[0][0]


class _Spent:
    """One user's sliding second and minute, as Gmail meters them (both windows slide)."""

    def __init__(self) -> None:
        self.second = _Sliding(1.0)
        self.minute = _Sliding(60.0)

    def evict(self, now: float) -> None:
        self.second.evict(now)
        self.minute.evict(now)

    def add(self, at: float, units: int) -> None:
        for window in (self.second, self.minute):
            window.arrived.append((at, units))
            window.total += units


class FakeGmail(FakeHTTPServer):
    """Gmail API v1 + Google OAuth, on 127.0.0.1."""

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", *, first_message_id: int | None = None
    ):
        super().__init__(port, host)
        # Message ids are unique only within a mailbox: every mailbox starts counting at
        # `first_message_id`, so two mailboxes (on one fake or two) hand out the same ids
        # unless a test gives them different starts (`mailbox(address, first_message_id=…)`).
        self.first_message_id = first_message_id
        self.oauth = OAuthServer()
        self.mailboxes: dict[str, Mailbox] = {}
        self.inner_requests: list[LoggedRequest] = []  # calls made inside batch requests
        # Per-user quota as Gmail meters it: units a second (a moving average over the last
        # second) and a minute. None: not enforced. Either way every call's units are logged
        # in `units_log` (monotonic time, user, units) so a run can be checked window by window.
        self.user_units_per_second: int | None = None
        self.user_units_per_minute: int | None = None
        self.units_log: deque[tuple[float, str, int]] = deque(maxlen=1_000_000)
        self.quota_refusals = 0  # calls refused for the per-user quota
        self._units: dict[str, _Spent] = {}
        self._units_lock = threading.Lock()
        self._register_routes()

    def start(self) -> FakeGmail:
        super().start()
        self.oauth.token_uri = f"{self.base_url}/token"
        return self

    # --- switches ------------------------------------------------------------------------------

    def quota_errors(
        self, kind: str = "user_rate", times: int = 1, path: str | None = None
    ) -> None:
        """The next `times` API calls (matching `path`) fail with this quota error."""
        self.inject(
            Fault(FaultKind.STATUS, quota_error(kind), path=path or r"/gmail/v1/", times=times)
        )

    def server_errors(self, times: int = 1, status: int = 503, path: str | None = None) -> None:
        message = "Backend Error" if status >= 500 else "Error"
        resp = google_error(status, message, "backendError")
        self.inject(Fault(FaultKind.STATUS, resp, path=path or r"/gmail/v1/", times=times))

    def expire_tokens(self) -> None:
        self.oauth.expire_access_tokens()

    def revoke(self, user: str) -> None:
        self.oauth.revoke(user)

    def restore(self, user: str) -> None:
        self.oauth.restore(user)

    def expire_history(self, user: str) -> None:
        self.mailbox(user).expire_history()

    # --- seeding -------------------------------------------------------------------------------

    def mailbox(self, address: str, *, first_message_id: int | None = None) -> Mailbox:
        with self.lock:
            box = self.mailboxes.get(address.lower())
            if box is None:
                box = self.mailboxes[address.lower()] = Mailbox(address.lower())
                start = first_message_id or self.first_message_id
                if start is not None:
                    box.first_message_id(start)
            if self.oauth.consent_user is None:
                self.oauth.consent_user = address.lower()
            return box

    def seed_message(
        self,
        mailbox: str,
        *,
        sender: str,
        to: str,
        subject: str,
        body: str | None,
        date: datetime | None = None,
        labels: Iterable[str] = ("INBOX", "UNREAD"),
        in_reply_to: str | None = None,
        references: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        html: str | None = None,
    ) -> StoredMessage:
        """Deliver a message built from these fields (what an SMTP delivery would store)."""
        msg = build_message(
            sender=sender,
            to=to,
            subject=subject,
            body=body,
            date=date,
            in_reply_to=in_reply_to,
            references=references,
            headers=headers,
            html=html,
        )
        return self.mailbox(mailbox).add(msg.as_bytes(), labels, internal_date=date)

    # --- hooks ---------------------------------------------------------------------------------

    def is_write(self, req: Request) -> bool:
        """Token grants read; a batch writes when any call inside it does."""
        if req.method == "POST" and req.path == "/token":
            return False
        if req.method == "POST" and req.path in ("/batch", "/batch/gmail/v1"):
            try:
                parts = parse_batch(req.headers.get("Content-Type", ""), req.body)
            except BatchFormatError:
                return False
            return any(part.request.method != "GET" for part in parts)
        return super().is_write(req)

    def refuse_write(self, req: Request) -> Response:
        return google_error(403, "read-only mailbox: this fake refuses writes", "forbidden")

    def rate_limited(self, req: Request) -> Response:
        return quota_error("concurrent")

    def not_found(self, req: Request) -> Response:
        return google_error(404, "Requested entity was not found.", "notFound")

    # --- plumbing ------------------------------------------------------------------------------

    def _api(
        self,
        method: str,
        pattern: str,
        units: int,
        scopes: frozenset[str],
        handler: Callable[..., Response],
    ) -> None:
        def wrapped(req: Request, user: str, **groups: str) -> Response:
            access = self.oauth.authenticate(req.bearer)
            if access is None:
                return google_error(
                    401,
                    "Invalid Credentials",
                    "authError",
                    locationType="header",
                    location="Authorization",
                )
            if not access.scopes & scopes:
                return google_error(
                    403,
                    "Request had insufficient authentication scopes.",
                    "insufficientPermissions",
                )
            target = user.lower()
            if target != "me" and target != access.user:
                return google_error(403, f"Delegation denied for {access.user}", "forbidden")
            with self.lock:
                box = self.mailboxes.get(access.user)
            if box is None:
                return google_error(400, "Mail service not enabled", "failedPrecondition")
            refused = self._spend(access.user, units)
            if refused is not None:
                return refused
            try:
                return handler(req, box, **groups)
            except MailboxError as exc:
                return google_error(exc.status, exc.message, exc.reason)
            except SearchSyntaxError:
                return google_error(400, "Invalid query", "invalidArgument")

        self.route(method, pattern, wrapped)

    def _spend(self, user: str, units: int) -> Response | None:
        """Count a call's units as it arrives, or refuse it when either sliding window (the
        last second, the last minute) would hold more than its limit."""
        now = time.monotonic()
        with self._units_lock:
            if self.user_units_per_second is None and self.user_units_per_minute is None:
                self.units_log.append((now, user, units))
                return None
            spent = self._units.setdefault(user, _Spent())
            spent.evict(now)
            for window, limit in (
                (spent.second, self.user_units_per_second),
                (spent.minute, self.user_units_per_minute),
            ):
                if limit is not None and window.total + units > limit:
                    self.quota_refusals += 1
                    wait = window.span - (now - window.oldest()) if window.total else 1.0
                    return quota_error("user_rate", datetime.now(UTC) + timedelta(seconds=wait))
            spent.add(now, units)
            self.units_log.append((now, user, units))
        return None

    def busiest_second(self, user: str) -> int:
        """The most units this user spent in any one-second window (sliding)."""
        with self._units_lock:
            log = [(at, u) for at, who, u in self.units_log if who == user.lower()]
        best = used = 0
        start = 0
        for at, units in log:
            used += units
            while at - log[start][0] >= 1.0:
                used -= log[start][1]
                start += 1
            best = max(best, used)
        return best

    def units_spent(self, user: str) -> int:
        """Units counted in the current minute (while a per-user quota is set)."""
        with self._units_lock:
            spent = self._units.get(user.lower())
            return spent.minute.total if spent is not None else 0

    def _register_routes(self) -> None:
        api = self._api
        api("GET", _USER + "/profile", 1, METADATA, self._profile)
        api("GET", _USER + "/messages", 5, METADATA, self._list_messages)
        api("POST", _USER + "/messages", 25, INSERT, self._insert)
        api("POST", _USER + "/messages/import", 25, INSERT, self._import)
        api("POST", _UPLOAD + "/messages", 25, INSERT, self._insert)
        api("POST", _UPLOAD + "/messages/import", 25, INSERT, self._import)
        api("POST", _USER + "/messages/batchModify", 50, WRITE, self._batch_modify)
        api(
            "GET",
            _USER + "/messages/(?P<mid>[^/]+)/attachments/(?P<aid>[^/]+)",
            5,
            READ,
            self._attachment,
        )
        api("GET", _USER + "/messages/(?P<mid>[^/]+)", 5, METADATA, self._get_message)
        api("DELETE", _USER + "/messages/(?P<mid>[^/]+)", 10, WRITE, self._delete_message)
        api("POST", _USER + "/messages/(?P<mid>[^/]+)/modify", 5, WRITE, self._modify)
        api("GET", _USER + "/labels", 1, METADATA | LABELS, self._list_labels)
        api("POST", _USER + "/labels", 5, LABELS, self._create_label)
        api("GET", _USER + "/labels/(?P<lid>[^/]+)", 1, METADATA | LABELS, self._get_label)
        api("GET", _USER + "/history", 2, METADATA, self._history)
        api("GET", _USER + "/threads/(?P<tid>[^/]+)", 10, METADATA, self._get_thread)
        api("POST", _USER + "/drafts", 10, COMPOSE, self._create_draft)
        api("POST", _UPLOAD + "/drafts", 10, COMPOSE, self._create_draft)
        api("GET", _USER + "/drafts", 5, READ | COMPOSE, self._list_drafts)
        api("GET", _USER + "/drafts/(?P<did>[^/]+)", 5, READ | COMPOSE, self._get_draft)
        api("DELETE", _USER + "/drafts/(?P<did>[^/]+)", 10, COMPOSE, self._delete_draft)
        self.route("POST", r"/batch/gmail/v1|/batch", self._batch)
        self.route("POST", r"/token", self._token)
        self.route("GET", r"/o/oauth2/auth", self._authorize)

    # --- OAuth ---------------------------------------------------------------------------------

    def _token(self, req: Request) -> Response:
        try:
            answer = self.oauth.token(req.form(), req.headers.get("Authorization", ""))
            return Response(200, answer, content_type=JSON)
        except OAuthError as exc:
            return Response(exc.status, exc.body(), content_type=JSON)

    def _authorize(self, req: Request) -> Response:
        query = {k: v[0] for k, v in req.query.items()}
        try:
            location = self.oauth.authorize(query)
        except OAuthError as exc:
            return Response(exc.status, exc.body(), content_type=JSON)
        return Response(302, b"", {"Location": location}, content_type="text/html")

    # --- batch ---------------------------------------------------------------------------------

    def _batch(self, req: Request) -> Response:
        try:
            parts = parse_batch(req.headers.get("Content-Type", ""), req.body)
        except BatchFormatError:
            return google_error(400, "Failed to parse batch request", "badRequest")
        if len(parts) > MAX_CALLS:
            return google_error(
                400, f"Too many requests in batch; the limit is {MAX_CALLS}", "badRequest"
            )
        answers: list[tuple[str, Response]] = []
        for part in parts:
            inner = part.request
            if "Authorization" not in inner.headers and "Authorization" in req.headers:
                inner.headers["Authorization"] = req.headers["Authorization"]
            resp = self._inner(inner)
            with self.lock:
                self.inner_requests.append(
                    LoggedRequest(inner.method, inner.path, resp.status, self.request_clock())
                )
            answers.append((part.content_id, resp))
        return render_batch(answers)

    def _inner(self, req: Request) -> Response:
        """One call inside a batch: its own faults, auth and quota, like a separate call."""
        fault = self._next_fault(req)
        if fault is not None and fault.kind is FaultKind.STATUS and fault.response is not None:
            return fault.response
        try:
            if fault is not None and fault.kind is FaultKind.MALFORMED:
                return garble(self._apply(req), fault.malformed, fault.key)
            return self._apply(req)
        except Exception as exc:  # a bug in the fake shows as a 500 part, not a dead batch
            return google_error(500, f"fake server error: {exc!r}", "backendError")

    # --- users ---------------------------------------------------------------------------------

    def _profile(self, req: Request, box: Mailbox) -> Response:
        with box.lock:
            threads = {m.thread_id for m in box.messages.values()}
            body = {
                "emailAddress": box.address,
                "messagesTotal": len(box.messages),
                "threadsTotal": len(threads),
                "historyId": str(box.history_id),
            }
        return Response(200, body, content_type=JSON)

    # --- messages ------------------------------------------------------------------------------

    def _list_messages(self, req: Request, box: Mailbox) -> Response:
        hits = box.search(
            req.arg("q"),
            req.query.get("labelIds", []),
            (req.arg("includeSpamTrash") or "false").lower() == "true",
        )
        items_page, token = page(hits, req)
        body: dict[str, Any] = {"resultSizeEstimate": len(hits)}
        if items_page:
            body["messages"] = [reference(m) for m in items_page]
        if token:
            body["nextPageToken"] = token
        return Response(200, body, content_type=JSON)

    def _get_message(self, req: Request, box: Mailbox, mid: str) -> Response:
        fmt = _format(req)
        with box.lock:
            body = render(box.get(mid), fmt, req.query.get("metadataHeaders"))
        return Response(200, body, content_type=JSON)

    def _raw_upload(self, req: Request) -> tuple[bytes, dict[str, Any]]:
        """The message and metadata of a JSON, media or multipart upload."""
        upload = req.arg("uploadType")
        if upload == "media":
            return req.body, {}
        if upload == "multipart":
            parts = parse_related(req.headers.get("Content-Type", ""), req.body)
            meta: dict[str, Any] = parts[0][1] if parts and parts[0][0] == "json" else {}
            raw = next((data for kind, data in parts if kind == "raw"), b"")
            return raw if isinstance(raw, bytes) else b"", meta
        meta = req.json() or {}
        container = meta.get("message", meta)
        raw_text = container.get("raw")
        if not isinstance(raw_text, str):
            raise MailboxError(
                400,
                "'raw' RFC822 payload message string or uploading message via /upload/* URL "
                "required",
                "invalidArgument",
            )
        return b64decode(raw_text), meta

    def _add(self, req: Request, box: Mailbox, date_header_default: bool) -> Response:
        raw, meta = self._raw_upload(req)
        container = meta.get("message", meta)
        source = req.arg("internalDateSource") or (
            "dateHeader" if date_header_default else "receivedTime"
        )
        stored = box.add(
            raw,
            container.get("labelIds") or [],
            thread_id=container.get("threadId"),
            use_date_header=source == "dateHeader",
        )
        return Response(200, short(stored), content_type=JSON)

    def _insert(self, req: Request, box: Mailbox) -> Response:
        return self._add(req, box, date_header_default=False)

    def _import(self, req: Request, box: Mailbox) -> Response:
        return self._add(req, box, date_header_default=True)

    def _modify(self, req: Request, box: Mailbox, mid: str) -> Response:
        body = req.json() or {}
        stored = box.modify(mid, body.get("addLabelIds") or [], body.get("removeLabelIds") or [])
        return Response(200, short(stored), content_type=JSON)

    def _batch_modify(self, req: Request, box: Mailbox) -> Response:
        body = req.json() or {}
        ids = body.get("ids") or []
        if len(ids) > 1000:
            raise MailboxError(400, "Too many ids: at most 1000", "invalidArgument")
        add, remove = body.get("addLabelIds") or [], body.get("removeLabelIds") or []
        with box.lock:
            for mid in ids:
                if mid in box.messages:
                    box.modify(mid, add, remove)
        return Response(204, None)

    def _delete_message(self, req: Request, box: Mailbox, mid: str) -> Response:
        box.delete(mid)
        return Response(204, None)

    def _attachment(self, req: Request, box: Mailbox, mid: str, aid: str) -> Response:
        with box.lock:
            data = find_attachment(box.get(mid), aid)
        if data is None:
            raise MailboxError(404, "Requested entity was not found.", "notFound")
        encoded = base64.urlsafe_b64encode(data).decode()
        return Response(200, {"size": len(data), "data": encoded}, content_type=JSON)

    # --- labels --------------------------------------------------------------------------------

    def _list_labels(self, req: Request, box: Mailbox) -> Response:
        with box.lock:
            labels = [label.resource() for label in box.labels.values()]
        return Response(200, {"labels": labels}, content_type=JSON)

    def _create_label(self, req: Request, box: Mailbox) -> Response:
        body = req.json() or {}
        label = box.create_label(
            str(body.get("name", "")),
            str(body.get("labelListVisibility", "labelShow")),
            str(body.get("messageListVisibility", "show")),
        )
        return Response(200, label.resource(), content_type=JSON)

    def _get_label(self, req: Request, box: Mailbox, lid: str) -> Response:
        with box.lock:
            label = box.labels.get(lid)
            if label is None:
                raise MailboxError(404, "Requested entity was not found.", "notFound")
            resource = label.resource()
            resource["messagesTotal"] = sum(lid in m.label_ids for m in box.messages.values())
        return Response(200, resource, content_type=JSON)

    # --- history and threads -------------------------------------------------------------------

    def _history(self, req: Request, box: Mailbox) -> Response:
        start = req.arg("startHistoryId")
        if not start or not start.isdigit():
            raise MailboxError(400, "Invalid startHistoryId", "invalidArgument")
        kinds = set(req.query.get("historyTypes", [])) or None
        with box.lock:
            records = list(box.changes_since(int(start), kinds, req.arg("labelId")))
            items_page, token = page(records, req)
            body: dict[str, Any] = {"historyId": str(box.history_id)}
            if items_page:
                body["history"] = [history_record(r) for r in items_page]
        if token:
            body["nextPageToken"] = token
        return Response(200, body, content_type=JSON)

    def _get_thread(self, req: Request, box: Mailbox, tid: str) -> Response:
        fmt = req.arg("format", "full") or "full"
        if fmt not in ("minimal", "full", "metadata"):
            raise MailboxError(400, f"Invalid format: {fmt}", "invalidArgument")
        with box.lock:
            members = box.thread(tid)
            body = {
                "id": tid,
                "historyId": str(max(m.history_id for m in members)),
                "messages": [render(m, fmt, req.query.get("metadataHeaders")) for m in members],
            }
        return Response(200, body, content_type=JSON)

    # --- drafts --------------------------------------------------------------------------------

    def _create_draft(self, req: Request, box: Mailbox) -> Response:
        raw, meta = self._raw_upload(req)
        container = meta.get("message", meta)
        draft, stored = box.create_draft(raw, container.get("threadId"))
        return Response(200, {"id": draft.id, "message": short(stored)}, content_type=JSON)

    def _list_drafts(self, req: Request, box: Mailbox) -> Response:
        with box.lock:
            drafts = sorted(box.drafts.values(), key=lambda d: d.id, reverse=True)
            items = [{"id": d.id, "message": reference(box.get(d.message_id))} for d in drafts]
        items_page, token = page(items, req)
        body: dict[str, Any] = {"resultSizeEstimate": len(items)}
        if items_page:
            body["drafts"] = items_page
        if token:
            body["nextPageToken"] = token
        return Response(200, body, content_type=JSON)

    def _get_draft(self, req: Request, box: Mailbox, did: str) -> Response:
        fmt = _format(req)
        with box.lock:
            draft = box.draft(did)
            message = render(box.get(draft.message_id), fmt)
        return Response(200, {"id": draft.id, "message": message}, content_type=JSON)

    def _delete_draft(self, req: Request, box: Mailbox, did: str) -> Response:
        with box.lock:
            draft = box.draft(did)
            del box.drafts[did]
            box.delete(draft.message_id)
        return Response(204, None)


def _format(req: Request) -> str:
    """The `format` argument of a get, checked the way Gmail checks it."""
    fmt = req.arg("format", "full") or "full"
    if fmt not in FORMATS:
        raise MailboxError(400, f"Invalid format: {fmt}", "invalidArgument")
    return fmt
