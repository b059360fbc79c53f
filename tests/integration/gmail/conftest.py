"""One local Gmail per test module; each test gets its own mailbox on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd_gmail.fake import FakeGmail
from syncd_gmail.testing import GmailTestbed


@pytest.fixture(scope="module")
def gmail_fake() -> Iterator[FakeGmail]:
    with FakeGmail() as fake:
        yield fake


@pytest.fixture
def bed(tmp_path: Path, gmail_fake: FakeGmail) -> Iterator[GmailTestbed]:
    testbed = GmailTestbed.start(tmp_path, fake=gmail_fake)
    try:
        yield testbed
    finally:
        testbed.stop()
