"""Test support: a local Graph with one mailbox, an app allowed to open it, a CRM double.

Shared by the connector's contract, integration tests and benchmark, so each test states
only who replied, what they wrote, and what syncd must do with it.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.connectors import Connector, ShardContext
from syncd.model import Account, AccountRef, Owner, Prospect, ProspectRef
from syncd.replies.config import RepliesConfig
from syncd.sandbox import write_secret
from syncd.testing.fakes import FakeDirectory, Sleeps
from syncd.testing.httpfake import Fault, FaultKind, Request
from syncd_m365 import open_connector
from syncd_m365.fake import FakeGraph
from syncd_m365.fake_store import StoredMessage
from syncd_m365.settings import M365Settings

CRM_SHARD = "hubspot"
TENANT = "harborlight.example"
_MAILBOXES = itertools.count(1)
_CONVERSATIONS = itertools.count(1)


@dataclass
class LostDraftAnswer(Fault):
    """Create the drafts of the next $batch that makes drafts, then drop the connection."""

    kind: FaultKind = FaultKind.APPLIED_LOST

    def matches(self, req: Request) -> bool:
        return req.path.endswith("/$batch") and b"createReply" in req.body


@dataclass
class M365Testbed:
    fake: FakeGraph
    workdir: Path
    mailbox: str
    client_id: str
    secret_file: Path
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    sleeps: Sleeps = field(default_factory=Sleeps)
    shard: str = "m365_rep"
    _people: int = 0
    _owns_fake: bool = True

    @classmethod
    def start(
        cls, workdir: Path, *, fake: FakeGraph | None = None, mailbox: str | None = None
    ) -> M365Testbed:
        """A mailbox and an app whose access policy covers it, on `fake` (shared) or a new one."""
        owned = fake is None
        server = fake if fake is not None else FakeGraph().start()
        address = mailbox or f"rep{next(_MAILBOXES)}@{TENANT}"
        server.mailbox(address)
        secret = secrets.token_urlsafe(16)
        client_id = server.register_app({address}, secret=secret)
        path = write_secret(workdir / f"m365-secret-{address}", secret)
        return cls(server, workdir, address, client_id, path, _owns_fake=owned)

    def stop(self) -> None:
        if self._owns_fake:
            self.fake.stop()
            return
        self.fake.clear_faults()
        self.fake.restore(self.client_id)
        self.fake.latency_s = 0.0

    # --- the connector ---------------------------------------------------------------------

    def settings(self, **overrides: Any) -> M365Settings:
        values: dict[str, Any] = {
            "mailbox": self.mailbox,
            "tenant_id": TENANT,
            "client_id": self.client_id,
            "client_secret": f"file:{self.secret_file}",
            "base_url": self.fake.base_url + "/",
            "timeout_s": 5.0,
        }
        values.update(overrides)
        return M365Settings.model_validate(values)

    def open(self, replies: RepliesConfig | None = None, **overrides: Any) -> Connector:
        crm = Connector(directory=self.directory)
        ctx = ShardContext(
            self.shard,
            self.settings(**overrides),
            self.workdir,
            {CRM_SHARD: crm, "crm": crm},
            replies,
        )
        return open_connector(ctx, sleep=self.sleeps, clock=self.sleeps.clock)

    # --- the world ---------------------------------------------------------------------------

    def person(self, email: str | None = None, name: str = "Pat Doe") -> Prospect:
        """A CRM contact the directory knows."""
        self._people += 1
        n = self._people
        prospect = Prospect(
            ref=ProspectRef(CRM_SHARD, "contact", f"{900000 + n}"),
            account=Account(AccountRef(CRM_SHARD, f"{800000 + n}"), f"Account {n}", 200),
            owner=Owner("77001"),
            email=email or f"person{n}@contoso{n}.example",
            name=name,
        )
        self.directory.people[prospect.ref] = prospect
        return prospect

    def outreach(self, to: str, *, subject: str = "Following up", days_ago: float = 3) -> str:
        """The rep's first message of a conversation; answers the conversation id."""
        conversation = f"AAQk{next(_CONVERSATIONS):08d}"
        self.fake.seed_message(
            self.mailbox,
            folder="sentitems",
            sender=self.mailbox,
            sender_name="Rep",
            to=to,
            subject=subject,
            text="Would you be interested in a short call?",
            conversation_id=conversation,
            received=datetime.now(UTC) - timedelta(days=days_ago),
        )
        return conversation

    def reply(
        self,
        sender: str,
        body: str,
        *,
        subject: str = "RE: Following up",
        conversation: str | None = None,
        html: str | None = None,
        minutes_ago: float = 30,
        name: str = "Pat Doe",
        internet_message_id: str | None = None,
    ) -> StoredMessage:
        """A reply delivered to the rep's Inbox, in `conversation` (a new outreach by default);
        `internet_message_id` makes it a copy of a message another mailbox received."""
        if conversation is None:
            conversation = self.outreach(sender, subject=subject.removeprefix("RE: "))
        return self.fake.seed_message(
            self.mailbox,
            folder="inbox",
            sender=sender,
            sender_name=name,
            to=self.mailbox,
            subject=subject,
            text=body if html is None else "",
            html=html,
            conversation_id=conversation,
            received=datetime.now(UTC) - timedelta(minutes=minutes_ago),
            internet_message_id=internet_message_id,
        )

    # --- what a person would see in Outlook ------------------------------------------------

    def drafts(self) -> list[StoredMessage]:
        box = self.fake.mailbox(self.mailbox)
        with box.lock:
            return [m for m in box.messages.values() if m.folder == "drafts"]

    def draft_keys(self) -> list[str]:
        return [d.header("x-syncd-key") for d in self.drafts()]

    def categories_of(self, message_id: str) -> list[str]:
        box = self.fake.mailbox(self.mailbox)
        with box.lock:
            return list(box.messages[message_id].categories)
