"""Contract tests every connector must pass.

A connector's contract module is a few lines: subclass `ConnectorContract` and provide a
`harness` fixture returning a `ContractHarness` wired to its local fake. The tests check the
invariants the engine relies on: `read` never goes behind its cursor and resumes without
loss or repeats, writes are idempotent per key (or findable after an in-doubt answer), and
vendor errors come out as the taxonomy in `syncd.connectors`, never as vendor exceptions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

import pytest

from syncd.connectors import Connector, FatalSyncError, RetriableError, SyncError, TaskTracker
from syncd.model import Cursor, RejectionEvent, TaskStatus, TouchSpec, WriteResult, WriteStatus


class FaultName(StrEnum):
    RATE_LIMIT = "rate_limit"  # the vendor's 429 (or its equivalent)
    SERVER_ERROR = "server_error"  # 5xx on every attempt until cleared
    AUTH_REVOKED = "auth_revoked"  # credentials no longer accepted, refresh refused
    LOST_RESPONSE = "lost_response"  # the write is applied, the response never arrives


class ContractHarness(Protocol):
    """What a connector's test supplies: its connector wired to a seeded local fake."""

    def open(self) -> Connector:
        """A fresh connector instance (source and/or sink) against the fake."""
        ...

    def seed_rejections(self, count: int) -> None:
        """Create `count` new rejection records in the fake, positioned after earlier ones."""
        ...

    def touch_specs(self, count: int) -> list[TouchSpec]:
        """`count` writes of a kind the sink supports (tasks, drafts…) for people that exist
        in the fake, with distinct keys."""
        ...

    def remote_keys(self) -> list[str]:
        """The idempotency key of every write the fake holds, duplicates included."""
        ...

    def fail(self, fault: FaultName) -> None:
        """Make the fake misbehave this way until `heal()`."""
        ...

    def complete_task(self, key: str) -> None:
        """Complete the task written under `key` the way a rep would, through the vendor's own
        client (only called for sinks that report task states)."""
        ...

    def heal(self) -> None: ...


def _read_all(conn: Connector, cursor: Cursor | None) -> tuple[list[RejectionEvent], Cursor | None]:
    assert conn.source is not None
    until = datetime.now(UTC) + timedelta(days=1)
    events: list[RejectionEvent] = []
    last = cursor
    for page in conn.source.read(cursor, until):
        events.extend(page.events)
        last = page.cursor
    return events, last


def _pages(conn: Connector, cursor: Cursor | None) -> Iterator[tuple[list[RejectionEvent], Cursor]]:
    assert conn.source is not None
    until = datetime.now(UTC) + timedelta(days=1)
    for page in conn.source.read(cursor, until):
        yield page.events, page.cursor


class ConnectorContract:
    """Subclass and provide a `harness` fixture; the tests skip roles the connector lacks."""

    seed_count = 12

    # --- Source -----------------------------------------------------------------------------

    def test_read_returns_every_seeded_rejection_once(self, harness: ContractHarness) -> None:
        """A full read from no cursor yields each seeded rejection exactly once."""
        conn = harness.open()
        if conn.source is None:
            pytest.skip("connector has no source")
        harness.seed_rejections(self.seed_count)
        events, cursor = _read_all(conn, None)
        ids = Counter(e.event_id for e in events)
        assert len(ids) >= self.seed_count
        assert max(ids.values()) == 1, "an event was returned twice in one read"
        assert cursor is not None

    def test_read_never_goes_behind_its_cursor(self, harness: ContractHarness) -> None:
        """Re-reading from the final cursor returns nothing already read, then only new records."""
        conn = harness.open()
        if conn.source is None:
            pytest.skip("connector has no source")
        harness.seed_rejections(self.seed_count)
        first, cursor = _read_all(conn, None)
        again, cursor2 = _read_all(conn, cursor)
        seen = {e.event_id for e in first}
        assert not seen & {e.event_id for e in again}, "read went behind its cursor"
        harness.seed_rejections(3)
        new, _ = _read_all(conn, cursor2)
        new_ids = {e.event_id for e in new}
        assert len(new_ids) == 3 and not new_ids & seen

    def test_resuming_after_each_page_loses_and_repeats_nothing(
        self, harness: ContractHarness
    ) -> None:
        """Stopping after any page and resuming from its cursor gives the same events."""
        conn = harness.open()
        if conn.source is None:
            pytest.skip("connector has no source")
        harness.seed_rejections(self.seed_count)
        full, _ = _read_all(conn, None)
        collected: list[str] = []
        cursor: Cursor | None = None
        for _ in range(len(full) + 2):  # one page per resume, bounded
            pages = _pages(harness.open(), cursor)
            page = next(pages, None)
            if page is None:
                break
            events, cursor = page
            collected.extend(e.event_id for e in events)
            if not events:
                break
        assert sorted(collected) == sorted(e.event_id for e in full)

    # --- Sink -------------------------------------------------------------------------------

    def _write(self, conn: Connector, specs: list[TouchSpec]) -> list[WriteResult]:
        assert conn.sink is not None
        results = conn.sink.write(specs)
        assert [r.key for r in results] == [s.key for s in specs], "results out of order"
        return results

    def test_writes_are_idempotent_per_key(self, harness: ContractHarness) -> None:
        """Writing a batch, then finding or re-sending it, leaves each key exactly once."""
        conn = harness.open()
        if conn.sink is None:
            pytest.skip("connector has no sink")
        specs = harness.touch_specs(5)
        results = self._write(conn, specs)
        assert all(r.status is WriteStatus.OK and r.remote_id for r in results)
        if conn.sink.idempotent:
            self._write(conn, specs)
        else:
            found = conn.sink.find([s.key for s in specs])
            assert set(found) == {s.key for s in specs}
        assert Counter(harness.remote_keys()) == Counter(s.key for s in specs)

    def test_task_status_reports_what_a_rep_completed(self, harness: ContractHarness) -> None:
        """A task a rep completes is reported completed, the others open, unknown keys absent:
        how a review hold learns that the rep has read the reply."""
        conn = harness.open()
        if not isinstance(conn.sink, TaskTracker):
            pytest.skip("sink reports no task state")
        specs = harness.touch_specs(3)
        self._write(conn, specs)
        harness.complete_task(specs[0].key)
        states = conn.sink.task_status([s.key for s in specs] + ["never-written-key"])
        assert states == {
            specs[0].key: TaskStatus.COMPLETED,
            specs[1].key: TaskStatus.OPEN,
            specs[2].key: TaskStatus.OPEN,
        }

    def test_lost_response_is_in_doubt_and_reconcilable(self, harness: ContractHarness) -> None:
        """A write applied without an answer is reported in doubt, never as failed or ok."""
        conn = harness.open()
        if conn.sink is None:
            pytest.skip("connector has no sink")
        specs = harness.touch_specs(2)
        harness.fail(FaultName.LOST_RESPONSE)
        try:
            statuses = {r.status for r in conn.sink.write(specs)}
            assert statuses <= {WriteStatus.IN_DOUBT, WriteStatus.OK}
        except RetriableError as exc:
            assert exc.in_doubt, "a lost response must be flagged in doubt"
        finally:
            harness.heal()
        assert conn.sink.find([s.key for s in specs]).keys() == {s.key for s in specs}
        assert Counter(harness.remote_keys()) == Counter(s.key for s in specs)

    @pytest.mark.parametrize("fault", [FaultName.RATE_LIMIT, FaultName.SERVER_ERROR])
    def test_transient_vendor_errors_are_retriable(
        self, harness: ContractHarness, fault: FaultName
    ) -> None:
        """429 and 5xx surface as RetriableError or RETRY/IN_DOUBT results, never raw."""
        conn = harness.open()
        if conn.sink is None:
            pytest.skip("connector has no sink")
        specs = harness.touch_specs(1)
        harness.fail(fault)
        try:
            results = conn.sink.write(specs)
            assert results[0].status in (WriteStatus.RETRY, WriteStatus.IN_DOUBT)
        except RetriableError:
            pass
        except SyncError as exc:
            pytest.fail(f"{fault} mapped to {type(exc).__name__}, not RetriableError")
        finally:
            harness.heal()

    def test_revoked_auth_is_fatal(self, harness: ContractHarness) -> None:
        """Credentials the vendor refuses stop the shard (FatalSyncError), not a retry loop."""
        conn = harness.open()
        specs = harness.touch_specs(1) if conn.source is None else []
        harness.fail(FaultName.AUTH_REVOKED)
        try:
            with pytest.raises(FatalSyncError):
                if conn.source is not None:
                    _read_all(conn, None)
                elif conn.sink is not None:
                    conn.sink.write(specs)
        finally:
            harness.heal()
