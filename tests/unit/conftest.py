"""Fixtures shared by the unit tests that drive the engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.world import World, open_world


@pytest.fixture
def world(store_url: str) -> Iterator[World]:
    w = open_world(store_url)
    yield w
    w.store.close()
