"""Fixtures for the Salesforce connector's tests: a local org per test, recorded sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncd.connectors import Connector
from syncd.model import Cursor, RejectionEvent
from syncd_salesforce.testkit import LocalOrg


class Sleeps(list[float]):
    """Stands in for time.sleep: records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def org(tmp_path: Path) -> Iterator[LocalOrg]:
    local = LocalOrg(tmp_path)
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def later() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


def read_all(
    conn: Connector, cursor: Cursor | None = None, until: datetime | None = None
) -> tuple[list[RejectionEvent], Cursor | None]:
    assert conn.source is not None
    events: list[RejectionEvent] = []
    last = cursor
    for page in conn.source.read(cursor, until or later()):
        events.extend(page.events)
        last = page.cursor
    return events, last
