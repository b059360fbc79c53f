"""The connector contract, run against the Microsoft 365 connector and its local Graph."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.testing.contract import ConnectorContract, ContractHarness, FaultName
from syncd_m365.fake import FakeGraph
from syncd_m365.fake_store import StoredMessage
from syncd_m365.testing import CRM_SHARD, LostDraftAnswer, M365Testbed
from tests.contract.mailbox import MailboxHarness


class M365Harness(MailboxHarness[M365Testbed]):
    """ContractHarness on a local Graph: rejections are prospects' replies to the rep."""

    crm_shard = CRM_SHARD

    def thread_of(self, reply: StoredMessage) -> tuple[str, str]:
        return reply.conversation_id, reply.internet_message_id

    def fail(self, fault: FaultName) -> None:
        fake = self.bed.fake
        if fault is FaultName.RATE_LIMIT:
            fake.throttle(times=10_000)
        elif fault is FaultName.SERVER_ERROR:
            fake.server_errors(times=10_000)
        elif fault is FaultName.AUTH_REVOKED:
            fake.revoke(self.bed.client_id)
        else:
            fake.inject(LostDraftAnswer())

    def heal(self) -> None:
        self.bed.fake.clear_faults()
        self.bed.fake.restore(self.bed.client_id)


@pytest.fixture(scope="module")
def graph_fake() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


class TestM365Contract(ConnectorContract):
    @pytest.fixture
    def harness(self, tmp_path: Path, graph_fake: FakeGraph) -> Iterator[ContractHarness]:
        bed = M365Testbed.start(tmp_path, fake=graph_fake)  # a fresh mailbox per test
        try:
            yield M365Harness(bed)
        finally:
            bed.stop()
