"""One local Graph per test module; each test gets its own mailbox on it, wired to a CRM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd_m365.fake import FakeGraph
from syncd_m365.testing import CRM_SHARD, M365Testbed
from tests.wiring import MailboxWired, wire_mailbox

MAILBOX_SHARD = "m365_rep"


@pytest.fixture(scope="module")
def graph_fake() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def bed(tmp_path: Path, graph_fake: FakeGraph) -> Iterator[M365Testbed]:
    testbed = M365Testbed.start(tmp_path, fake=graph_fake)
    try:
        yield testbed
    finally:
        testbed.stop()


@pytest.fixture
def wired(bed: M365Testbed, tmp_path: Path) -> Iterator[MailboxWired]:
    mailbox = (MAILBOX_SHARD, "m365", bed.settings(), bed.open())
    wired = wire_mailbox(tmp_path, mailbox, CRM_SHARD, bed.directory)
    yield wired
    wired.store.close()
