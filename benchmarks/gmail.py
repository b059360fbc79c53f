"""Gmail connector throughput against the local fake: read N replies, draft N answers.

    python -m benchmarks.gmail --records 2000 --latency-ms 25 --json

Prints HTTP calls (outer requests, and calls inside batch requests), Gmail quota units,
replies read and drafts written per second (without the waits syncd's quota share imposes;
`minutes_at_quota_share` is how long the same work takes under it), then `at_limits`: the
same work with the fake enforcing Gmail's per-user 250 units a second and 15,000 a minute
and syncd at `--quota-share` of them (default 1.0): units/s, the fraction of the share used,
the busiest one-second window (asserted never above 250) and the calls the fake refused for
quota (asserted none), units per reply (read, draft), and the memory of
reading a quarter of N and all of N in a process without the fake: it grows only by the
message ids the first listing keeps in its cursor, never by bodies (pages are streamed).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.connectors import Connector, ShardContext
from syncd.logging import configure as configure_logging
from syncd.model import Prospect, ProspectRef, RejectionEvent, TouchSpec, WriteKind
from syncd.testing.fakes import FakeDirectory
from syncd_gmail import GmailSettings, open_connector
from syncd_gmail.client import UNITS
from syncd_gmail.fake import FakeGmail
from syncd_gmail.testing import CRM_SHARD, GmailTestbed

REPLY = "Not right now. Please reach out again next quarter."
PER_SECOND = 250  # Gmail's per-user units a second (a moving average) ...
PER_MINUTE = 15_000  # ... and a minute


def _units(fake: FakeGmail, since_outer: int, since_inner: int) -> int:
    """Quota units of the calls made (the batch envelope itself costs nothing)."""
    calls = [*fake.requests[since_outer:], *fake.inner_requests[since_inner:]]
    total = 0
    for call in calls:
        path = call.path
        if path.startswith("/batch") or path == "/token":
            continue
        if path.endswith("/history"):
            total += UNITS["history.list"]
        elif path.endswith("/profile"):
            total += UNITS["users.getProfile"]
        elif "/threads/" in path:
            total += UNITS["threads.get"]
        elif path.endswith("/drafts"):
            total += UNITS["drafts.create" if call.method == "POST" else "drafts.list"]
        elif path.endswith("/batchModify"):
            total += UNITS["messages.batchModify"]
        elif path.endswith("/labels"):
            total += UNITS["labels.list" if call.method == "GET" else "labels.create"]
        else:
            total += 5
    return total


def _thread(event: RejectionEvent) -> str:
    assert event.reply is not None
    return event.reply.thread_id


def _draft(n: int, event: RejectionEvent) -> TouchSpec:
    """The acknowledgement draft the engine materialises for a reply (syncd.materialise):
    the reply's facts read with it travel in the touch."""
    reply = event.reply
    assert reply is not None
    return TouchSpec(
        key=f"bench-{n:06d}",
        write=WriteKind.DRAFT,
        prospect=event.prospect.ref,
        due=date.today(),
        subject="Thank you",
        body="Thanks for letting me know.",
        to_email=event.prospect.email,
        thread_id=reply.thread_id,
        in_reply_to=reply.message_id,
        references=reply.references or reply.message_id,
        thread_subject=reply.subject,
        reply_id=reply.mailbox_id or None,
    )


def run(
    records: int, latency_ms: float, workdir: Path, share: float | None = None
) -> dict[str, Any]:
    """One read and one round of drafts. `share` None: no quota anywhere (the connector's
    own speed); else the fake enforces Gmail's 250 units a second and 15,000 a minute per
    user and syncd keeps to `share` of them."""
    bed = GmailTestbed.start(workdir)
    try:
        people = [bed.person() for _ in range(records)]
        replies = [bed.reply(str(p.email), REPLY) for p in people]
        if share is None:
            conn = bed.open(user_units_per_second=10**9, user_units_per_minute=10**9)
        else:
            bed.fake.user_units_per_second = PER_SECOND
            bed.fake.user_units_per_minute = PER_MINUTE
            crm = Connector(directory=bed.directory)
            ctx = ShardContext(
                "gmail_rep", bed.settings(quota_share=share), workdir, {CRM_SHARD: crm, "crm": crm}
            )
            conn = open_connector(ctx, sleep=time.sleep)  # really wait for the quota
        assert conn.source is not None and conn.sink is not None
        bed.fake.latency_s = latency_ms / 1000
        outer, inner = len(bed.fake.requests), len(bed.fake.inner_requests)
        until = datetime.now(UTC) + timedelta(minutes=1)

        started = time.perf_counter()
        read: list[RejectionEvent] = []
        for page in conn.source.read(None, until):
            read.extend(page.events)
            conn.source.acknowledge(page.events)  # type: ignore[attr-defined]
        events = len(read)
        read_s = time.perf_counter() - started
        read_calls = len(bed.fake.requests) - outer
        read_inner = len(bed.fake.inner_requests) - inner
        read_units = _units(bed.fake, outer, inner)

        assert sorted(r.thread_id for r in replies) == sorted(_thread(e) for e in read)
        specs = [_draft(n, event) for n, event in enumerate(read)]
        outer, inner = len(bed.fake.requests), len(bed.fake.inner_requests)
        started = time.perf_counter()
        written = 0
        for start in range(0, len(specs), conn.sink.batch_size):
            results = conn.sink.write(specs[start : start + conn.sink.batch_size])
            written += sum(r.status.value == "ok" for r in results)
        write_s = time.perf_counter() - started
        write_units = _units(bed.fake, outer, inner)
        settings = bed.settings()
        share_per_min = settings.quota_share * settings.user_units_per_minute
        units = read_units + write_units
        limited: dict[str, Any] = {}
        if share is not None:
            busiest = bed.fake.busiest_second(bed.mailbox)
            rate = units / (read_s + write_s)
            limited = {
                "quota_share": share,
                "units_per_s": round(rate, 1),
                "of_share_per_s": round(rate / (share * PER_SECOND), 3),
                "busiest_second_units": busiest,
                # calls the fake refused for quota: syncd tried to go over (it never should)
                "quota_refusals": bed.fake.quota_refusals,
            }
            assert busiest <= PER_SECOND, f"a second went over Gmail's limit: {busiest} units"
            assert not bed.fake.quota_refusals, "Gmail's quota refused calls"
        return {
            **limited,
            "records": records,
            "latency_ms": latency_ms,
            "events": events,
            "read_s": round(read_s, 3),
            "replies_per_s": round(events / read_s, 1) if read_s else None,
            "read_http_calls": read_calls,
            "read_calls_in_batches": read_inner,
            "read_quota_units": read_units,
            "units_per_reply": {
                "read": round(read_units / events, 1),
                "draft": round(write_units / max(written, 1), 1),
            },
            "drafts_written": written,
            "drafts_per_s": round(written / write_s, 1) if write_s else None,
            "write_http_calls": len(bed.fake.requests) - outer,
            "write_calls_in_batches": len(bed.fake.inner_requests) - inner,
            "write_quota_units": write_units,
            # syncd keeps to quota_share of the mailbox's units a minute: the time this work
            # takes at that ceiling (the rates above are measured without its waits).
            "minutes_at_quota_share": round((read_units + write_units) / share_per_min, 1),
        }
    finally:
        bed.stop()


def _read_in_child(
    settings: dict[str, Any], people: list[tuple[str, str]]
) -> tuple[int, int, float]:
    """One full read by a fresh process: (events, peak Python heap KiB, peak RSS MiB)."""
    configure_logging("warning", "console", stream=sys.stderr)
    crm = Connector(
        directory=FakeDirectory(
            Prospect(ProspectRef(CRM_SHARD, "contact", ident), email=email)
            for ident, email in people
        )
    )
    ctx = ShardContext("gmail", GmailSettings.model_validate(settings), Path("."), {"crm": crm})
    conn = open_connector(ctx)
    assert conn.source is not None
    tracemalloc.start()
    events = 0
    for page in conn.source.read(None, datetime.now(UTC) + timedelta(minutes=1)):
        events += len(page.events)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return events, peak // 1024, round(rss, 1)


def read_memory(records: int, workdir: Path) -> dict[str, Any]:
    """Memory of reading `records` replies, measured in a process that holds no fake."""
    bed = GmailTestbed.start(workdir)
    try:
        people = [bed.person() for _ in range(records)]
        for person in people:
            bed.reply(str(person.email), REPLY)
        # No quota share here: this run measures memory, not syncd's own throttling.
        unlimited = {"user_units_per_second": 10**9, "user_units_per_minute": 10**9}
        settings = bed.settings(**unlimited).model_dump(mode="json")
        pairs = [(p.ref.id, str(p.email)) for p in people]
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            events, heap_kb, rss_mb = pool.apply(_read_in_child, (settings, pairs))
        assert events == records
        return {"heap_peak_kb": heap_kb, "rss_peak_mb": rss_mb}
    finally:
        bed.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gmail")
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--limited-records",
        type=int,
        default=300,
        help="replies for the run at Gmail's limits (about 26 units each; 0 skips it)",
    )
    parser.add_argument("--quota-share", type=float, default=1.0, help="syncd's share at limits")
    args = parser.parse_args()
    configure_logging("warning", "console", stream=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(args.records, args.latency_ms, Path(tmp))
        if args.limited_records:
            figures["at_limits"] = run(
                args.limited_records, args.latency_ms, Path(tmp), share=args.quota_share
            )
        quarter = max(args.records // 4, 1)
        figures["read_memory"] = {
            str(quarter): read_memory(quarter, Path(tmp)),
            str(args.records): read_memory(args.records, Path(tmp)),
        }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
