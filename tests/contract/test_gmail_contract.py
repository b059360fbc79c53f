"""The connector contract, run against the Gmail connector and its local fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from syncd.connectors import Connector
from syncd.model import ProspectRef, TouchSpec, WriteKind
from syncd.testing.contract import ConnectorContract, ContractHarness, FaultName
from syncd_gmail.fake import FakeGmail
from syncd_gmail.testing import CRM_SHARD, GmailTestbed, LostDraftAnswer


class GmailHarness:
    """ContractHarness on a local Gmail: rejections are prospects' replies to the rep."""

    def __init__(self, bed: GmailTestbed):
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
            specs.append(
                TouchSpec(
                    key=f"contract-{n:04d}-{reply.id}",
                    write=WriteKind.DRAFT,
                    prospect=ProspectRef(CRM_SHARD, "contact", person.ref.id),
                    due=date.today(),
                    subject="Thank you",
                    body="Thanks for letting me know.",
                    to_email=person.email,
                    thread_id=reply.thread_id,
                    in_reply_to=reply.header("Message-ID"),
                )
            )
        return specs

    def remote_keys(self) -> list[str]:
        return self.bed.draft_keys()

    def complete_task(self, key: str) -> None:
        raise NotImplementedError("a mailbox writes drafts, not tasks")

    def fail(self, fault: FaultName) -> None:
        fake = self.bed.fake
        if fault is FaultName.RATE_LIMIT:
            fake.quota_errors("user_rate", times=10_000, path=r"^/(gmail|batch)/")
        elif fault is FaultName.SERVER_ERROR:
            fake.server_errors(times=10_000, path=r"^/(gmail|batch)/")
        elif fault is FaultName.AUTH_REVOKED:
            fake.revoke(self.bed.mailbox)
        else:
            fake.inject(LostDraftAnswer())

    def heal(self) -> None:
        self.bed.fake.clear_faults()
        self.bed.fake.restore(self.bed.mailbox)


@pytest.fixture(scope="module")
def gmail_fake() -> Iterator[FakeGmail]:
    with FakeGmail() as fake:
        yield fake


class TestGmailContract(ConnectorContract):
    @pytest.fixture
    def harness(self, tmp_path: Path, gmail_fake: FakeGmail) -> Iterator[ContractHarness]:
        bed = GmailTestbed.start(tmp_path, fake=gmail_fake)  # a fresh mailbox per test
        try:
            yield GmailHarness(bed)
        finally:
            bed.stop()
