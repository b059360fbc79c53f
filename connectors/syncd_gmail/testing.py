"""Test support: a local Gmail with one mailbox, credentials, a CRM double, a connector.

Shared by the connector's contract, integration tests and benchmark, so each test states
only what it is about: who replied, what they wrote, and what syncd must do with it.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httplib2
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build

from syncd.connectors import Connector, ShardContext
from syncd.model import (
    Account,
    AccountRef,
    Cursor,
    Owner,
    Page,
    Prospect,
    ProspectRef,
    RejectionEvent,
)
from syncd.replies.config import RepliesConfig
from syncd.sandbox import write_secret
from syncd.testing.fakes import FakeDirectory, Sleeps
from syncd.testing.httpfake import Fault, FaultKind, Request
from syncd_gmail import open_connector
from syncd_gmail.fake import FakeGmail
from syncd_gmail.fake_store import StoredMessage
from syncd_gmail.settings import SCOPES, GmailSettings

CRM_SHARD = "salesforce"
_MAILBOXES = itertools.count(1)


@dataclass
class LostDraftAnswer(Fault):
    """Create the drafts of the next drafts batch, then drop the connection unanswered."""

    kind: FaultKind = FaultKind.APPLIED_LOST

    def matches(self, req: Request) -> bool:
        return req.path.startswith("/batch/") and b"/drafts" in req.body


@dataclass
class GmailTestbed:
    fake: FakeGmail
    workdir: Path
    mailbox: str
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    sleeps: Sleeps = field(default_factory=lambda: Sleeps(now=1_000.0))
    _key_file: Path | None = None
    _people: int = 0
    _owns_fake: bool = True

    @classmethod
    def start(
        cls, workdir: Path, *, fake: FakeGmail | None = None, mailbox: str | None = None
    ) -> GmailTestbed:
        """A mailbox with its own service-account key, on `fake` (shared) or a new one."""
        owned = fake is None
        server = fake if fake is not None else FakeGmail().start()
        address = mailbox or f"rep{next(_MAILBOXES)}@harborlight.example"
        server.mailbox(address)
        bed = cls(server, workdir, address, _owns_fake=owned)
        key = server.oauth.create_service_account({address}, set(SCOPES))
        bed._key_file = write_secret(workdir / f"gmail-key-{address}.json", json.dumps(key))
        return bed

    def stop(self) -> None:
        """Stop an own fake; on a shared one, undo this test's switches."""
        if self._owns_fake:
            self.fake.stop()
            return
        self.fake.clear_faults()
        self.fake.request_clock = time.time
        self.fake.restore(self.mailbox)
        self.fake.latency_s = 0.0
        self.fake.user_units_per_minute = None

    # --- the connector ---------------------------------------------------------------------------

    def settings(self, **overrides: Any) -> GmailSettings:
        values: dict[str, Any] = {
            "mailbox": self.mailbox,
            "auth": "service_account",
            "service_account_key": f"file:{self._key_file}",
            "base_url": self.fake.base_url + "/",
            "timeout_s": 5.0,
        }
        values.update(overrides)
        return GmailSettings.model_validate(values)

    def open(self, replies: RepliesConfig | None = None, **overrides: Any) -> Connector:
        crm = Connector(directory=self.directory)
        ctx = ShardContext(
            "gmail_rep",
            self.settings(**overrides),
            self.workdir,
            {CRM_SHARD: crm, "crm": crm},
            replies,
        )
        return open_connector(ctx, sleep=self.sleeps)

    # --- the world -------------------------------------------------------------------------------

    def person(self, email: str | None = None, name: str = "Pat Doe") -> Prospect:
        """A CRM contact the directory knows."""
        self._people += 1
        n = self._people
        prospect = Prospect(
            ref=ProspectRef(CRM_SHARD, "contact", f"003C{n:06d}"),
            account=Account(AccountRef(CRM_SHARD, f"001A{n:06d}"), f"Account {n}", 200),
            owner=Owner("005U000001"),
            email=email or f"person{n}@acme{n}.example",
            name=name,
        )
        self.directory.people[prospect.ref] = prospect
        return prospect

    def outreach(
        self, to: str, *, subject: str = "Following up", days_ago: float = 3
    ) -> StoredMessage:
        """The rep's first message of a thread."""
        return self.fake.seed_message(
            self.mailbox,
            sender=f"Rep <{self.mailbox}>",
            to=to,
            subject=subject,
            body="Would you be interested in a short call?",
            date=datetime.now(UTC) - timedelta(days=days_ago),
            labels=["SENT"],
        )

    def reply(
        self,
        sender: str,
        body: str,
        *,
        subject: str = "Re: Following up",
        parent: StoredMessage | None = None,
        headers: Iterable[tuple[str, str]] = (),
        html: str | None = None,
        minutes_ago: float = 30,
    ) -> StoredMessage:
        """A reply delivered to the rep, threaded under `parent` (a new outreach by default)."""
        if parent is None:
            parent = self.outreach(sender, subject=subject.removeprefix("Re: "))
        ref = parent.header("Message-ID")
        return self.fake.seed_message(
            self.mailbox,
            sender=sender,
            to=self.mailbox,
            subject=subject,
            body=body,
            date=datetime.now(UTC) - timedelta(minutes=minutes_ago),
            in_reply_to=ref,
            references=ref,
            headers=headers,
            html=html,
        )

    # --- the API as a person would see it --------------------------------------------------------

    def service(self) -> Any:
        """A google-api-python-client for the mailbox, through the fake's OAuth."""
        client_id, secret = self.fake.oauth.register_client()
        refresh = self.fake.oauth.issue_refresh_token(self.mailbox, client_id, set(SCOPES))
        creds = Credentials(  # type: ignore[no-untyped-call]
            None,
            refresh_token=refresh,
            client_id=client_id,
            client_secret=secret,
            token_uri=self.fake.oauth.token_uri,
            scopes=list(SCOPES),
        )
        http = AuthorizedHttp(creds, http=httplib2.Http(timeout=5))
        return build(
            "gmail",
            "v1",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.fake.base_url + "/"},
        )

    def drafts(self) -> list[StoredMessage]:
        box = self.fake.mailbox(self.mailbox)
        with box.lock:
            return [box.messages[d.message_id] for d in box.drafts.values()]

    def draft_keys(self) -> list[str]:
        return [d.header("X-Syncd-Key") for d in self.drafts()]

    def labels_of(self, message_id: str) -> set[str]:
        box = self.fake.mailbox(self.mailbox)
        with box.lock:
            names = {label.id: label.name for label in box.labels.values()}
            return {names[i] for i in box.messages[message_id].label_ids}


def read_all(
    conn: Connector, cursor: Cursor | None = None, until: datetime | None = None
) -> tuple[list[RejectionEvent], Cursor | None, list[Page]]:
    """Every page of one read, with the cursor to resume from."""
    assert conn.source is not None
    pages = list(conn.source.read(cursor, until or datetime.now(UTC) + timedelta(minutes=1)))
    events = [e for page in pages for e in page.events]
    return events, (pages[-1].cursor if pages else cursor), pages
