"""Reading a Microsoft 365 mailbox: delta rounds, expired tokens, throttling, batching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncd.connectors import Connector
from syncd.model import Cursor, RejectionEvent
from syncd_m365.client import MailboxLimiter
from syncd_m365.source import M365Source
from syncd_m365.testing import M365Testbed


def _read(conn: Connector, cursor: Cursor | None) -> tuple[list[RejectionEvent], Cursor | None]:
    assert conn.source is not None
    events: list[RejectionEvent] = []
    for page in conn.source.read(cursor, datetime.now(UTC) + timedelta(minutes=1)):
        events.extend(page.events)
        cursor = page.cursor
    return events, cursor


def _ack(conn: Connector, events: list[RejectionEvent]) -> None:
    assert isinstance(conn.source, M365Source)
    conn.source.acknowledge(events)


def test_an_expired_delta_token_resyncs_without_deciding_anything_twice(
    bed: M365Testbed,
) -> None:
    """After 410 syncStateNotFound the read starts over; categorised replies are skipped, so
    only the reply that arrived since comes out."""
    conn = bed.open(page_size=2)
    for _ in range(3):
        bed.reply(str(bed.person().email), "Not right now, maybe next year.")
    first, cursor = _read(conn, None)
    _ack(conn, first)
    assert len(first) == 3
    late = bed.reply(str(bed.person().email), "Not right now, maybe next year.")
    bed.fake.expire_delta(bed.mailbox)

    again, _ = _read(conn, cursor)

    assert [e.event_id for e in again] == [f"ms:msg:{late.id}"]


def test_acknowledged_replies_come_back_in_the_next_round_only_as_skipped_changes(
    bed: M365Testbed,
) -> None:
    """Categorising changes a message, so delta lists it again: it is not decided again."""
    conn = bed.open()
    bed.reply(str(bed.person().email), "Not right now, maybe next year.")
    first, cursor = _read(conn, None)
    _ack(conn, first)
    again, _ = _read(conn, cursor)
    assert len(first) == 1 and again == []


def test_replies_outside_the_rep_s_conversations_and_unknown_senders_are_ignored(
    bed: M365Testbed,
) -> None:
    """A cold inbound mail (no sent message in its conversation) and a stranger's reply make
    no event; a known person's reply to the rep does."""
    known = bed.person()
    bed.reply(str(known.email), "Not now, thanks.", conversation="AAQk-cold-inbound")
    bed.reply("stranger@elsewhere.example", "Not now, thanks.")
    wanted = bed.reply(str(known.email), "Not now, thanks.")
    events, _ = _read(bed.open(), None)
    assert [e.event_id for e in events] == [f"ms:msg:{wanted.id}"]


def test_bodies_come_in_the_delta_pages_and_conversations_are_checked_in_batches(
    bed: M365Testbed,
) -> None:
    """Forty replies cost two delta pages and three $batch calls of conversation checks:
    no request per message."""
    for _ in range(40):
        bed.reply(str(bed.person().email), "Not right now, maybe next year.")
    before = len(bed.fake.calls(path=f"/users/{bed.mailbox}/|/\\$batch"))
    events, _ = _read(bed.open(page_size=25, batch_size=20), None)
    calls = bed.fake.calls(path=f"/users/{bed.mailbox}/|/\\$batch")[before:]
    assert len(events) == 40
    assert [c.path.rsplit("/", 1)[-1] for c in calls].count("delta") == 2
    assert [c.path.rsplit("/", 1)[-1] for c in calls].count("$batch") == 2 + 1  # 25 + 15 + 0


def test_throttled_requests_wait_out_retry_after(bed: M365Testbed) -> None:
    """Graph's 429 with Retry-After is waited out (on the test's clock) and the read goes on."""
    bed.reply(str(bed.person().email), "Not right now, maybe next year.")
    conn = bed.open()
    bed.fake.throttle(times=2)
    events, _ = _read(conn, None)
    assert len(events) == 1
    assert bed.sleeps.waits[:2] == [1.0, 1.0]


def test_the_mailbox_budget_waits_instead_of_going_over_the_documented_limit() -> None:
    """With 10,000 requests a 10-minute window, the 10,001st waits for the window to move."""
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = MailboxLimiter(10_000, 4, clock=lambda: now[0], sleep=sleep)
    for _ in range(500):
        with limiter.slot(20):  # a full $batch counts as 20
            now[0] += 0.01
    assert waits == []
    with limiter.slot(1):
        pass
    assert len(waits) == 1 and 590 < waits[0] <= 600
