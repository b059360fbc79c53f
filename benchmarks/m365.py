"""Microsoft 365 connector against the local Graph: read N replies, draft N answers.

    python -m benchmarks.m365 --records 1000 --latency-ms 25 --json

Prints Graph calls per reply (HTTP calls, and requests as Graph counts them: every request
inside a `$batch` counts against the mailbox's limit) against the minimum, replies per second
measured (with the fake enforcing Graph's documented per-mailbox limits, 10,000 requests /
10 minutes and 4 at once; a request refused with 429 fails the run) and what the 10-minute
limit allows at syncd's default share of it, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.logging import configure as configure_logging
from syncd.model import TouchSpec, WriteKind
from syncd_m365.settings import MAILBOX_CONCURRENCY, MAILBOX_REQUESTS_PER_10_MIN, M365Settings
from syncd_m365.source import M365Source
from syncd_m365.testing import M365Testbed

REPLY = "Not right now. Please reach out again next quarter."


def _counts(bed: M365Testbed, since_outer: int, since_inner: int) -> tuple[int, int]:
    """(HTTP calls to Graph, requests as Graph counts them) since the given log positions."""
    outer = [r for r in bed.fake.requests[since_outer:] if r.path.startswith("/graph/")]
    batches = sum(1 for r in outer if r.path.endswith("/$batch"))
    inner = len(bed.fake.inner_requests) - since_inner
    return len(outer), len(outer) - batches + inner


def run(records: int, latency_ms: float, workdir: Path) -> dict[str, Any]:
    bed = M365Testbed.start(workdir)
    try:
        people = [bed.person() for _ in range(records)]
        replies = [bed.reply(str(p.email), REPLY) for p in people]
        settings = M365Settings.model_fields
        page_size = 100
        conn = bed.open(page_size=page_size)
        assert isinstance(conn.source, M365Source) and conn.sink is not None
        bed.fake.latency_s = latency_ms / 1000
        # Graph's documented per-mailbox limits, enforced by the fake for the whole run
        bed.fake.mailbox_requests_per_10_min = MAILBOX_REQUESTS_PER_10_MIN
        bed.fake.mailbox_concurrency = MAILBOX_CONCURRENCY
        first = len(bed.fake.requests)
        outer, inner = len(bed.fake.requests), len(bed.fake.inner_requests)

        started = time.perf_counter()
        events = 0
        for page in conn.source.read(None, datetime.now(UTC) + timedelta(minutes=1)):
            events += len(page.events)
            conn.source.acknowledge(page.events)
        read_s = time.perf_counter() - started
        read_http, read_graph = _counts(bed, outer, inner)

        outer, inner = len(bed.fake.requests), len(bed.fake.inner_requests)
        specs = [
            TouchSpec(
                key=f"bench-{n}",
                write=WriteKind.DRAFT,
                prospect=p.ref,
                due=date.today(),
                subject="Thanks",
                body="Thank you for letting me know.",
                to_email=p.email,
                thread_id=r.conversation_id,
                in_reply_to=r.internet_message_id,
                reply_id=r.id,  # read with the reply (the engine carries it into the touch)
            )
            for n, (p, r) in enumerate(zip(people, replies, strict=True))
        ]
        started = time.perf_counter()
        batch = int(settings["batch_size"].default)
        written = 0
        for start in range(0, len(specs), batch):
            written += sum(
                r.remote_id is not None for r in conn.sink.write(specs[start : start + batch])
            )
        write_s = time.perf_counter() - started
        write_http, write_graph = _counts(bed, outer, inner)
        throttled = sum(1 for r in bed.fake.requests[first:] if r.status == 429)
    finally:
        bed.stop()

    assert events == records and written == records, (events, written)
    assert throttled == 0, f"{throttled} requests over Graph's per-mailbox limits"
    graph_per_reply = (read_graph + write_graph) / records
    # The least any client could do: one delta page per 1,000 messages (Graph's largest
    # page) with bodies, one PATCH for the category, one createReply; $batch packs 20.
    minimum_graph = 2 + 1 / 1000
    minimum_http = 1 / 1000 + 2 / 20
    share = float(settings["quota_share"].default)
    at_limit = MAILBOX_REQUESTS_PER_10_MIN / 600 / graph_per_reply
    return {
        "records": records,
        "latency_ms": latency_ms,
        "http_calls_per_reply": round((read_http + write_http) / records, 3),
        "minimum_http_calls_per_reply": round(minimum_http, 3),
        "graph_requests_per_reply": round(graph_per_reply, 3),
        "minimum_graph_requests_per_reply": round(minimum_graph, 3),
        "read_replies_per_s": round(records / read_s, 1),
        "draft_replies_per_s": round(records / write_s, 1),
        "replies_per_s_at_documented_limit": round(at_limit, 2),
        "replies_per_s_at_quota_share": round(at_limit * share, 2),
        "hours_for_records_at_quota_share": round(records / (at_limit * share) / 3600, 2),
        "limits": {
            "enforced": {
                "requests_per_10_min": MAILBOX_REQUESTS_PER_10_MIN,
                "concurrent_requests": MAILBOX_CONCURRENCY,
            },
            "throttled_429": throttled,
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "delta_pages": math.ceil(records / page_size),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure_logging(level="warning")
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.records, args.latency_ms, Path(tmp))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:36} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
