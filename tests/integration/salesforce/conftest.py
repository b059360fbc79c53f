"""Fixtures for the Salesforce connector's tests: a local org per test, recorded sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd_salesforce.testkit import LocalOrg, Sleeps


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
