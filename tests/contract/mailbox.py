"""The contract harness both mailbox connectors share: rejections are prospects' replies to
the rep, writes are thank-you drafts in the reply's thread. A vendor's harness says how a
stored reply names its thread and message, and how its fake fails and heals."""

from __future__ import annotations

from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from syncd.connectors import Connector
from syncd.model import Prospect, ProspectRef, TouchSpec, WriteKind
from syncd.testing.contract import FaultName


class MailboxBed(Protocol):
    """What the harness uses of a connector's testbed."""

    def open(self, **overrides: Any) -> Connector: ...

    def person(self) -> Prospect: ...

    def reply(self, sender: str, body: str) -> Any: ...

    def draft_keys(self) -> list[str]: ...


B = TypeVar("B", bound=MailboxBed)


class MailboxHarness(Generic[B]):
    crm_shard: str  # the CRM shard the testbed's people belong to

    def __init__(self, bed: B):
        self.bed = bed

    def open(self) -> Connector:
        return self.bed.open(batch_size=5, page_size=5)

    def seed_rejections(self, count: int) -> None:
        for _ in range(count):
            person = self.bed.person()
            assert person.email is not None
            self.bed.reply(person.email, "Not right now, please reach out again next quarter.")

    def touch_specs(self, count: int) -> list[TouchSpec]:
        specs = []
        for n in range(count):
            person = self.bed.person()
            reply = self.bed.reply(str(person.email), "Thanks, not for us.")
            thread_id, message_id = self.thread_of(reply)
            specs.append(
                TouchSpec(
                    key=f"contract-{n:04d}-{reply.id}",
                    write=WriteKind.DRAFT,
                    prospect=ProspectRef(self.crm_shard, "contact", person.ref.id),
                    due=date.today(),
                    subject="Thank you",
                    body="Thanks for letting me know.",
                    to_email=person.email,
                    thread_id=thread_id,
                    in_reply_to=message_id,
                )
            )
        return specs

    def remote_keys(self) -> list[str]:
        return self.bed.draft_keys()

    def complete_task(self, key: str) -> None:
        raise NotImplementedError("a mailbox writes drafts, not tasks")

    def thread_of(self, reply: Any) -> tuple[str, str]:
        """The thread a draft answering `reply` goes to, and the reply's Message-ID."""
        raise NotImplementedError

    def fail(self, fault: FaultName) -> None:
        raise NotImplementedError

    def heal(self) -> None:
        raise NotImplementedError
