"""Property: whatever the page size, arrivals between reads, crashes before acknowledging
and expired delta tokens, every reply in the rep's conversations becomes exactly one event
once acknowledged (repeats are only ever of replies not yet acknowledged)."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.model import Cursor
from syncd_m365.fake import FakeGraph
from syncd_m365.source import M365Source
from syncd_m365.testing import M365Testbed

step = st.tuples(
    st.integers(min_value=0, max_value=4),  # replies arriving before this read
    st.booleans(),  # the read is cut short after its first page (a crash)
    st.booleans(),  # the delta token expires before this read
    st.booleans(),  # the page is acknowledged (else: crash between commit and category)
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(page_size=st.integers(min_value=1, max_value=4), steps=st.lists(step, max_size=5))
def test_every_reply_is_decided_once_across_reads(
    graph_fake: FakeGraph, page_size: int, steps: list[tuple[int, bool, bool, bool]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bed = M365Testbed.start(Path(tmp), fake=graph_fake)
        conn = bed.open(page_size=page_size)
        assert isinstance(conn.source, M365Source)
        seeded: list[str] = []
        acknowledged: Counter[str] = Counter()
        cursor: Cursor | None = None
        # Two clean reads at the end: a round ends at the changes made before it began, so what
        # arrived during it is read by the next one.
        final = [(0, False, False, True), (0, False, False, True)]
        for arrivals, crash, expire, ack in [*steps, *final]:
            for _ in range(arrivals):
                seeded.append(bed.reply(str(bed.person().email), "Not now, thanks.").id)
            if expire:
                bed.fake.expire_delta(bed.mailbox)
            for page in conn.source.read(cursor, datetime.now(UTC) + timedelta(minutes=1)):
                if ack:
                    conn.source.acknowledge(page.events)
                    acknowledged.update(e.event_id for e in page.events)
                    cursor = page.cursor  # the engine commits the page, then acknowledges
                if crash:
                    break
        assert acknowledged == Counter(f"ms:msg:{mid}" for mid in seeded)
