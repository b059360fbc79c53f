"""The connector contract, run against the Microsoft 365 connector and its local Graph."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from syncd.connectors import Connector
from syncd.model import ProspectRef, TouchSpec, WriteKind
from syncd.testing.contract import ConnectorContract, ContractHarness, FaultName
from syncd_m365.fake import FakeGraph
from syncd_m365.testing import CRM_SHARD, LostDraftAnswer, M365Testbed


class M365Harness:
    """ContractHarness on a local Graph: rejections are prospects' replies to the rep."""

    def __init__(self, bed: M365Testbed):
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
                    thread_id=reply.conversation_id,
                    in_reply_to=reply.internet_message_id,
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
