"""The connector contract, run against the Gmail connector and its local fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.testing.contract import ConnectorContract, ContractHarness, FaultName
from syncd_gmail.fake import FakeGmail
from syncd_gmail.fake_store import StoredMessage
from syncd_gmail.testing import CRM_SHARD, GmailTestbed, LostDraftAnswer
from tests.contract.mailbox import MailboxHarness


class GmailHarness(MailboxHarness[GmailTestbed]):
    """ContractHarness on a local Gmail: rejections are prospects' replies to the rep."""

    crm_shard = CRM_SHARD

    def thread_of(self, reply: StoredMessage) -> tuple[str, str]:
        return reply.thread_id, reply.header("Message-ID")

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
