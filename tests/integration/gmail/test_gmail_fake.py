"""The local Gmail, driven through google-api-python-client as the connector drives Gmail."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, datetime, timedelta
from typing import Any

import httplib2
import pytest
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest, MediaInMemoryUpload
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.testing.httpfake import Fault, FaultKind
from syncd_gmail.fake_search import SearchContext, compile_query
from syncd_gmail.fake_wire import build_message
from syncd_gmail.settings import SCOPES
from syncd_gmail.testing import GmailTestbed


def _raw(msg: email.message.EmailMessage) -> str:
    return base64.urlsafe_b64encode(msg.as_bytes()).decode()


def _decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _ids(answer: dict[str, Any]) -> set[str]:
    return {m["id"] for m in answer.get("messages", [])}


def test_profile_reports_the_mailbox_and_its_history_id(bed: GmailTestbed) -> None:
    """getProfile names the authenticated mailbox and a history id that grows with changes."""
    svc = bed.service()
    before = svc.users().getProfile(userId="me").execute()
    bed.reply("pat@acme.example", "Hello")
    after = svc.users().getProfile(userId="me").execute()
    assert before["emailAddress"] == bed.mailbox
    assert int(after["historyId"]) > int(before["historyId"])
    assert after["messagesTotal"] == 2 and after["threadsTotal"] == 1


def test_insert_and_import_take_the_internal_date_from_the_right_place(bed: GmailTestbed) -> None:
    """insert defaults to the receive time, import to the Date header, as in Gmail."""
    svc = bed.service()
    old = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
    msg = build_message(sender="a@b.example", to=bed.mailbox, subject="s", body="b", date=old)
    inserted = svc.users().messages().insert(userId="me", body={"raw": _raw(msg)}).execute()
    imported = (
        svc.users().messages().import_(userId="me", body={"raw": _raw(msg), "labelIds": ["INBOX"]})
    ).execute()
    got_inserted = svc.users().messages().get(userId="me", id=inserted["id"]).execute()
    got_imported = svc.users().messages().get(userId="me", id=imported["id"]).execute()
    assert int(got_imported["internalDate"]) == int(old.timestamp() * 1000)
    assert int(got_inserted["internalDate"]) > int(old.timestamp() * 1000)
    assert got_imported["labelIds"] == ["INBOX"]


def test_media_upload_inserts_the_message_as_sent(bed: GmailTestbed) -> None:
    """A message uploaded as message/rfc822 media is stored byte for byte."""
    svc = bed.service()
    msg = build_message(sender="a@b.example", to=bed.mailbox, subject="Media", body="Body")
    media = MediaInMemoryUpload(msg.as_bytes(), mimetype="message/rfc822")
    request = (
        svc.users().messages().insert(userId="me", body={"labelIds": ["INBOX"]}, media_body=media)
    )
    # The client keeps https for upload URIs whatever the endpoint; the fake speaks plain http.
    request.uri = request.uri.replace("https://", "http://", 1)
    created = request.execute()
    raw = svc.users().messages().get(userId="me", id=created["id"], format="raw").execute()
    assert _decode(raw["raw"]) == msg.as_bytes()
    assert raw["labelIds"] == ["INBOX"]


def test_full_format_is_a_mime_tree_with_base64url_bodies(bed: GmailTestbed) -> None:
    """format=full returns the multipart tree with part ids, headers and decoded-able bodies."""
    svc = bed.service()
    stored = bed.reply("pat@acme.example", "Nein danke — später.", html="<p>Nein danke</p>")
    got = svc.users().messages().get(userId="me", id=stored.id, format="full").execute()
    payload = got["payload"]
    assert payload["mimeType"] == "multipart/alternative" and payload["partId"] == ""
    plain, html = payload["parts"]
    assert (plain["partId"], plain["mimeType"], html["mimeType"]) == (
        "0",
        "text/plain",
        "text/html",
    )
    assert _decode(plain["body"]["data"]).decode().strip() == "Nein danke — später."
    assert plain["body"]["size"] == len(_decode(plain["body"]["data"]))
    assert {h["name"] for h in payload["headers"]} >= {"From", "Subject", "Message-ID"}
    assert got["snippet"].startswith("Nein danke")


def test_metadata_format_returns_only_the_asked_headers(bed: GmailTestbed) -> None:
    """format=metadata with metadataHeaders returns those headers and no body."""
    svc = bed.service()
    stored = bed.reply("pat@acme.example", "Hi")
    got = (
        svc.users()
        .messages()
        .get(userId="me", id=stored.id, format="metadata", metadataHeaders=["Subject"])
        .execute()
    )
    assert got["payload"]["headers"] == [{"name": "Subject", "value": "Re: Following up"}]
    assert "parts" not in got["payload"] and "body" not in got["payload"]


def test_raw_format_round_trips_the_rfc822_bytes(bed: GmailTestbed) -> None:
    """format=raw is the stored message, base64url-encoded."""
    svc = bed.service()
    stored = bed.reply("pat@acme.example", "Raw body")
    got = svc.users().messages().get(userId="me", id=stored.id, format="raw").execute()
    parsed = email.message_from_bytes(_decode(got["raw"]), policy=email.policy.default)
    assert parsed["Message-ID"] == stored.header("Message-ID")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("in:inbox -from:me", {"reply_de", "reply_en"}),
        ("from:me", {"outreach"}),
        ("from:lena@acme.example", {"reply_de"}),
        ('subject:"Following up" -in:sent', {"reply_en", "reply_de"}),
        ('"next quarter"', {"reply_en"}),
        ("quarter OR Quartal", {"reply_en", "reply_de"}),
        ("-label:syncd-processed in:inbox", {"reply_de"}),
        ("label:syncd/processed", {"reply_en"}),
        ("newer_than:2d", {"reply_en", "reply_de"}),
        ("older_than:2d", {"outreach"}),
        ("is:unread -{from:lena@acme.example}", {"reply_en"}),
        ("in:inbox -category:promotions", {"reply_en"}),
    ],
)
def test_search_operators_select_the_right_messages(
    bed: GmailTestbed, query: str, expected: set[str]
) -> None:
    """messages.list(q=…) applies Gmail's operators, negation, OR, braces and phrases."""
    svc = bed.service()
    outreach = bed.outreach("pat@acme.example", days_ago=5)
    en = bed.reply("Pat <pat@acme.example>", "Please reach out next quarter.", parent=outreach)
    de = bed.reply("lena@acme.example", "Im nächsten Quartal bitte.", parent=outreach)
    label = svc.users().labels().create(userId="me", body={"name": "syncd/processed"}).execute()
    svc.users().messages().modify(
        userId="me", id=en.id, body={"addLabelIds": [label["id"]]}
    ).execute()
    svc.users().messages().modify(
        userId="me", id=de.id, body={"addLabelIds": ["CATEGORY_PROMOTIONS"]}
    ).execute()
    names = {outreach.id: "outreach", en.id: "reply_en", de.id: "reply_de"}
    got = svc.users().messages().list(userId="me", q=query).execute()
    assert {names[i] for i in _ids(got)} == expected


def test_list_pages_with_tokens_newest_first(bed: GmailTestbed) -> None:
    """maxResults pages the answer and nextPageToken continues it, newest message first."""
    svc = bed.service()
    stored = [bed.reply(f"p{n}@acme.example", "x", minutes_ago=60 - n) for n in range(5)]
    first = svc.users().messages().list(userId="me", q="in:inbox", maxResults=2).execute()
    second = (
        svc.users()
        .messages()
        .list(userId="me", q="in:inbox", maxResults=2, pageToken=first["nextPageToken"])
        .execute()
    )
    order = [m["id"] for m in first["messages"] + second["messages"]]
    assert order == [m.id for m in reversed(stored)][:4]
    assert first["resultSizeEstimate"] == 5


def test_history_lists_changes_after_the_start_and_filters_by_label(bed: GmailTestbed) -> None:
    """history.list returns records after startHistoryId, of the asked types and label."""
    svc = bed.service()
    start = svc.users().getProfile(userId="me").execute()["historyId"]
    reply = bed.reply("pat@acme.example", "Yes")  # adds the rep's SENT outreach, then the reply
    svc.users().messages().modify(
        userId="me", id=reply.id, body={"removeLabelIds": ["UNREAD"]}
    ).execute()
    added = (
        svc.users()
        .history()
        .list(userId="me", startHistoryId=start, historyTypes=["messageAdded"], labelId="INBOX")
        .execute()
    )
    everything = svc.users().history().list(userId="me", startHistoryId=start).execute()
    assert [r["messagesAdded"][0]["message"]["id"] for r in added["history"]] == [reply.id]
    kinds = [k for r in everything["history"] for k in r if k not in ("id", "messages")]
    assert kinds == ["messagesAdded", "messagesAdded", "labelsRemoved"]
    assert added["historyId"] == everything["historyId"]


def test_a_stale_history_id_answers_404(bed: GmailTestbed) -> None:
    """After history expires, a startHistoryId from before answers 404 notFound."""
    svc = bed.service()
    start = svc.users().getProfile(userId="me").execute()["historyId"]
    bed.reply("pat@acme.example", "Yes")
    bed.fake.expire_history(bed.mailbox)
    with pytest.raises(HttpError) as caught:
        svc.users().history().list(userId="me", startHistoryId=start).execute()
    assert caught.value.status_code == 404
    assert caught.value.error_details[0]["reason"] == "notFound"


def test_modify_records_history_only_when_labels_change(bed: GmailTestbed) -> None:
    """Adding a label twice changes nothing the second time, as in Gmail."""
    svc = bed.service()
    reply = bed.reply("pat@acme.example", "Yes")
    label = svc.users().labels().create(userId="me", body={"name": "Done"}).execute()
    body = {"ids": [reply.id], "addLabelIds": [label["id"]]}
    svc.users().messages().batchModify(userId="me", body=body).execute()
    head = svc.users().getProfile(userId="me").execute()["historyId"]
    svc.users().messages().batchModify(userId="me", body=body).execute()
    assert svc.users().getProfile(userId="me").execute()["historyId"] == head
    assert label["id"] in bed.fake.mailbox(bed.mailbox).messages[reply.id].label_ids


def test_labels_create_refuses_a_duplicate_name_with_409(bed: GmailTestbed) -> None:
    """Creating a label whose name exists answers 409 with reason duplicate."""
    svc = bed.service()
    svc.users().labels().create(userId="me", body={"name": "syncd/processed"}).execute()
    with pytest.raises(HttpError) as caught:
        svc.users().labels().create(userId="me", body={"name": "SYNCD/processed"}).execute()
    assert caught.value.status_code == 409
    names = [x["name"] for x in svc.users().labels().list(userId="me").execute()["labels"]]
    assert names.count("syncd/processed") == 1 and "INBOX" in names


def test_a_draft_joins_the_thread_only_with_references_and_matching_subject(
    bed: GmailTestbed,
) -> None:
    """Gmail's threading rules: threadId plus In-Reply-To/References plus the same subject."""
    svc = bed.service()
    reply = bed.reply("pat@acme.example", "Not now")
    parent = reply.header("Message-ID")

    def draft(subject: str, refs: str | None) -> str:
        msg = build_message(
            sender=bed.mailbox,
            to="pat@acme.example",
            subject=subject,
            body="Thanks",
            in_reply_to=refs,
            references=refs,
        )
        body = {"message": {"raw": _raw(msg), "threadId": reply.thread_id}}
        created = svc.users().drafts().create(userId="me", body=body).execute()
        return str(created["message"]["threadId"])

    assert draft("Re: Following up", parent) == reply.thread_id
    assert draft("Thank you", parent) != reply.thread_id
    assert draft("Re: Following up", None) != reply.thread_id
    listed = svc.users().drafts().list(userId="me").execute()["drafts"]
    assert len(listed) == 3
    got = svc.users().drafts().get(userId="me", id=listed[0]["id"], format="metadata").execute()
    assert "DRAFT" in got["message"]["labelIds"]


def test_batch_answers_each_part_with_its_own_status(bed: GmailTestbed) -> None:
    """The batch endpoint answers every part (200s and a 404) under response Content-IDs."""
    svc = bed.service()
    reply = bed.reply("pat@acme.example", "Yes")
    batches = len(bed.fake.calls("POST", "^/batch/gmail/v1$"))
    inner = len(bed.fake.inner_requests)
    results: dict[str, Any] = {}
    batch = BatchHttpRequest(
        callback=lambda rid, resp, exc: results.__setitem__(rid, exc or resp),
        batch_uri=bed.fake.base_url + "/batch/gmail/v1",
    )
    batch.add(
        svc.users().messages().get(userId="me", id=reply.id, format="minimal"), request_id="a"
    )
    batch.add(svc.users().messages().get(userId="me", id="ffff"), request_id="b")
    batch.add(svc.users().threads().get(userId="me", id=reply.thread_id), request_id="c")
    batch.execute()
    assert results["a"]["id"] == reply.id
    assert isinstance(results["b"], HttpError) and results["b"].status_code == 404
    assert len(results["c"]["messages"]) == 2
    assert len(bed.fake.calls("POST", "^/batch/gmail/v1$")) == batches + 1
    assert len(bed.fake.inner_requests) == inner + 3


def test_a_batch_of_more_than_100_calls_is_refused(bed: GmailTestbed) -> None:
    """Gmail takes at most 100 calls per batch request."""
    svc = bed.service()
    batch = BatchHttpRequest(batch_uri=bed.fake.base_url + "/batch/gmail/v1")
    for n in range(101):
        batch.add(svc.users().messages().get(userId="me", id=f"{n:x}"))
    with pytest.raises(HttpError) as caught:
        batch.execute()
    assert caught.value.status_code == 400


def test_quota_switch_gives_gmails_429_and_403_bodies(bed: GmailTestbed) -> None:
    """Quota errors carry Gmail's status, reason and domain, which the client library reads."""
    svc = bed.service()
    svc.users().getProfile(userId="me").execute()
    bed.fake.quota_errors("user_rate")
    with pytest.raises(HttpError) as rate:
        svc.users().getProfile(userId="me").execute()
    bed.fake.quota_errors("user_rate_403")
    with pytest.raises(HttpError) as user_rate:
        svc.users().getProfile(userId="me").execute()
    assert rate.value.status_code == 429 and "Retry after" in rate.value.reason
    assert rate.value.error_details[0]["reason"] == "rateLimitExceeded"
    assert user_rate.value.status_code == 403
    assert user_rate.value.error_details[0]["reason"] == "userRateLimitExceeded"


def test_per_user_units_are_counted_and_enforced(bed: GmailTestbed) -> None:
    """With a per-user budget, calls beyond it answer 429 until the minute rolls."""
    svc = bed.service()
    svc.users().getProfile(userId="me").execute()
    bed.fake.user_units_per_minute = 12
    svc.users().messages().list(userId="me").execute()  # 5
    svc.users().messages().list(userId="me").execute()  # 10
    with pytest.raises(HttpError) as caught:
        svc.users().messages().list(userId="me").execute()  # 15 > 12
    assert caught.value.status_code == 429
    assert bed.fake.units_spent(bed.mailbox) == 10


def test_server_error_switch_answers_503_backend_error(bed: GmailTestbed) -> None:
    """The 5xx switch answers Google's backendError until it runs out."""
    svc = bed.service()
    svc.users().getProfile(userId="me").execute()
    bed.fake.server_errors(times=1)
    with pytest.raises(HttpError) as caught:
        svc.users().getProfile(userId="me").execute()
    assert caught.value.status_code == 503
    assert svc.users().getProfile(userId="me").execute()["emailAddress"] == bed.mailbox


def test_an_unknown_token_answers_401_auth_error(bed: GmailTestbed) -> None:
    """A bearer token the server never issued is refused with Gmail's 401 body."""
    resp, content = httplib2.Http().request(
        bed.fake.base_url + "/gmail/v1/users/me/profile",
        headers={"Authorization": "Bearer nope"},
    )
    assert resp.status == 401
    assert b'"reason": "authError"' in content and "invalid_token" in resp["www-authenticate"]


def test_expired_access_tokens_are_refreshed_transparently(bed: GmailTestbed) -> None:
    """After the access tokens expire, the client's refresh grant gets a new one and goes on."""
    svc = bed.service()
    svc.users().getProfile(userId="me").execute()
    grants = len(bed.fake.calls("POST", "^/token$"))
    bed.fake.expire_tokens()
    assert svc.users().getProfile(userId="me").execute()["emailAddress"] == bed.mailbox
    assert len(bed.fake.calls("POST", "^/token$")) == grants + 1


def test_a_revoked_refresh_token_gets_invalid_grant(bed: GmailTestbed) -> None:
    """When the user revokes access, the refresh grant fails with invalid_grant."""
    svc = bed.service()
    svc.users().getProfile(userId="me").execute()
    bed.fake.revoke(bed.mailbox)
    with pytest.raises(RefreshError, match="invalid_grant"):
        svc.users().getProfile(userId="me").execute()


def test_service_account_delegation_is_checked_per_subject(bed: GmailTestbed) -> None:
    """The jwt-bearer grant works for the delegated mailbox and is refused for another."""
    key = bed.fake.oauth.create_service_account({bed.mailbox}, set(SCOPES))
    base = service_account.Credentials.from_service_account_info(key, scopes=list(SCOPES))

    def profile(subject: str) -> dict[str, Any]:
        http = AuthorizedHttp(base.with_subject(subject), http=httplib2.Http(timeout=5))
        svc = build(
            "gmail",
            "v1",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": bed.fake.base_url + "/"},
        )
        return dict(svc.users().getProfile(userId="me").execute())

    assert profile(bed.mailbox)["emailAddress"] == bed.mailbox
    with pytest.raises(RefreshError, match="unauthorized_client"):
        profile("ceo@harborlight.example")


def test_a_lost_response_still_applies_the_write(bed: GmailTestbed) -> None:
    """APPLIED_LOST creates the draft but closes the connection without an answer."""
    svc = bed.service()
    svc.users().getProfile(userId="me").execute()
    bed.fake.inject(Fault(FaultKind.APPLIED_LOST, method="POST", path="/drafts", times=2))
    msg = build_message(sender=bed.mailbox, to="p@acme.example", subject="s", body="b")
    with pytest.raises(Exception):  # noqa: B017 - whatever httplib2 raises for a dropped answer
        svc.users().drafts().create(userId="me", body={"message": {"raw": _raw(msg)}}).execute()
    assert len(bed.drafts()) >= 1


class _View:
    """A message as search sees it, for the property test."""

    def __init__(self, labels: set[str], subject: str, sender: str, age_days: int):
        self.label_ids = labels
        self.subject = subject
        self.sender = sender
        self.internal_date = datetime.now(UTC) - timedelta(days=age_days)
        self.has_attachment = False

    def header(self, name: str) -> str:
        return {"Subject": self.subject, "From": self.sender}.get(name, "")

    @property
    def search_text(self) -> str:
        return f"{self.subject} {self.sender}"


_TERMS = st.sampled_from(
    ["in:inbox", "is:unread", "from:me", "label:done", "newer_than:3d", "subject:offer", "quarter"]
)


@settings(max_examples=200, deadline=None)
@given(
    term=_TERMS,
    other=_TERMS,
    labels=st.sets(st.sampled_from(["INBOX", "UNREAD", "Label_1"])),
    subject=st.sampled_from(["offer", "next quarter", "hello"]),
    mine=st.booleans(),
    age=st.integers(0, 6),
)
def test_negation_and_or_follow_boolean_logic(
    term: str, other: str, labels: set[str], subject: str, mine: bool, age: int
) -> None:
    """`-t` matches exactly what `t` does not; `a OR b` what either does; `a b` what both do."""
    ctx = SearchContext(
        owner="rep@x.example", label_names={"Label_1": "Done"}, now=datetime.now(UTC)
    )
    view = _View(labels, subject, "rep@x.example" if mine else "pat@y.example", age)
    a = compile_query(term)(view, ctx)
    b = compile_query(other)(view, ctx)
    assert compile_query(f"-{term}")(view, ctx) is (not a)
    assert compile_query(f"{term} OR {other}")(view, ctx) is (a or b)
    assert compile_query(f"{term} {other}")(view, ctx) is (a and b)
    assert compile_query(f"-({term} {other})")(view, ctx) is not (a and b)


def test_per_second_units_are_enforced_as_a_moving_second(bed: GmailTestbed) -> None:
    """With Gmail's per-second budget on, a burst beyond it is refused as a user-rate limit."""
    svc = bed.service()
    bed.fake.user_units_per_second = 12
    svc.users().messages().list(userId="me").execute()  # 5
    svc.users().messages().list(userId="me").execute()  # 10
    with pytest.raises(HttpError) as caught:
        svc.users().messages().list(userId="me").execute()  # 15 > 12 within the second
    assert caught.value.status_code == 429 and "User-rate limit" in str(caught.value)
    assert bed.fake.busiest_second(bed.mailbox) == 10
