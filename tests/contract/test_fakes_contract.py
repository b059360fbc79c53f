"""The contract suite run against syncd's own in-process fakes (which keep it honest too)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from syncd.connectors import Connector, FatalSyncError
from syncd.model import TouchSpec, WriteKind
from syncd.testing.contract import ConnectorContract, FaultName
from syncd.testing.fakes import FakeSink, FakeSource
from tests.conftest import NOW, rejection


class InProcessHarness:
    def __init__(self, idempotent: bool):
        self.source = FakeSource(page_size=5)
        self.sink = FakeSink(idempotent=idempotent)
        self.revoked = False
        self._n = 0

    def open(self) -> Connector:
        harness = self

        class GuardedSource(FakeSource):
            def read(self, cursor, until):  # type: ignore[no-untyped-def]
                if harness.revoked:
                    raise FatalSyncError("invalid_grant")
                return harness.source.read(cursor, until)

        return Connector(source=GuardedSource(), sink=self.sink)

    def seed_rejections(self, count: int) -> None:
        for _ in range(count):
            self._n += 1
            self.source.events.append(
                rejection(self._n, at=NOW - timedelta(hours=1) + timedelta(seconds=self._n // 3))
            )

    def touch_specs(self, count: int) -> list[TouchSpec]:
        base = self._n * 1000
        self._n += 1
        return [
            TouchSpec(
                f"key-{base + i}",
                WriteKind.TASK,
                rejection(i).prospect.ref,
                NOW.date(),
                "Call back",
                "brief",
            )
            for i in range(count)
        ]

    def remote_keys(self) -> list[str]:
        return self.sink.keys()

    def complete_task(self, key: str) -> None:
        self.sink.complete(key)

    def fail(self, fault: FaultName) -> None:
        if fault is FaultName.AUTH_REVOKED:
            self.revoked = True
        else:
            self.sink.fail(fault.value, times=10)

    def heal(self) -> None:
        self.revoked = False
        self.sink.faults.clear()


class TestIdempotentFakeContract(ConnectorContract):
    @pytest.fixture
    def harness(self) -> InProcessHarness:
        return InProcessHarness(idempotent=True)


class TestCreateOnlyFakeContract(ConnectorContract):
    @pytest.fixture
    def harness(self) -> InProcessHarness:
        return InProcessHarness(idempotent=False)
