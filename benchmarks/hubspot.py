"""HubSpot connector benchmark: API calls, throughput and memory for N closed-lost deals.

    python -m benchmarks.hubspot --records 5000 --latency-ms 25 --json

The fake portal runs in a child process (so the parent's peak RSS is the connector's alone)
holding N closed-lost deals, each with two contacts and a company. The parent reads every
deal through Source.read, builds one task per deal and writes them through Sink.write in
batches of the sink's batch size as pages arrive (streaming: nothing is held for all N).

`calls` counts the requests the fake served during the run. `min_calls` is what the job needs
at the least: ceil(N / 200) search pages, plus per page the two association batch reads
(deal -> contacts, deal -> company; 1,000 ids a call) and the contact and company batch reads
(100 a call), plus ceil(tasks / 100) batch creates. The difference is fixed overhead (the
pipelines call, the empty contact-status search). Searches are paced at the connector's
default 4/s against the fake's 5/s limit; the 10-second budget is left unlimited so the
figure shows the connector, not HubSpot's quota (at 190 calls / 10 s and rate_share 0.5,
expect about 10 s of governed waiting per 100 calls on a real portal).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import resource
import time
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from benchmarks.common import connector_main
from syncd.model import ProspectRef, TaskChannel, TouchSpec, WriteKind, WriteStatus
from syncd_hubspot import plugin
from syncd_hubspot.connector import open_connector
from syncd_hubspot.fake import HubSpotFake
from syncd_hubspot.settings import HubSpotSettings

CONTACTS_PER_DEAL = 2
PAGE = 200
OBJECT_BATCH = 100
ASSOCIATION_BATCH = 1000
TOKEN_ENV = "SYNCD_BENCH_HUBSPOT_TOKEN"  # noqa: S105 - a variable's name, not a secret


def _busiest(times: list[float], window: float) -> int:
    """The most calls in any `window` seconds (sliding)."""
    best = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _serve(pipe: Connection, records: int, latency_s: float, ten_second_limit: int = 10**9) -> None:
    """Child process: seed the fake portal, then answer 'count' / 'stats' until 'stop'."""
    fake = HubSpotFake(ten_second_limit=ten_second_limit)
    history = timedelta(days=30)  # deals lost over the last month
    start = datetime.now(UTC) - history
    spacing = history / max(1, records)
    for i in range(records):
        company = fake.seed("companies", {"name": f"Company {i}", "numberofemployees": "120"})
        contacts = [
            fake.seed("contacts", {"email": f"p{i}.{j}@bench.example"}, [("companies", company)])
            for j in range(CONTACTS_PER_DEAL)
        ]
        fake.seed(
            "deals",
            {"dealstage": "closedlost", "amount": "12000", "closed_lost_reason": "Budget"},
            [*(("contacts", c) for c in contacts), ("companies", company)],
            modified_at=start + spacing * i,
        )
    fake.start()
    fake.latency_s = latency_s
    pipe.send((fake.base_url, fake.add_private_app()))
    while (command := pipe.recv()) != "stop":
        if command == "count":
            with fake.lock:
                pipe.send(len(fake.served))
        elif command == "stats":  # calls, 429s, busiest 10 s (not search), busiest 1 s search
            with fake.lock:
                served = list(fake.served)
            search = [r.at for r in served if r.path.endswith("/search")]
            other = [r.at for r in served if not r.path.endswith("/search")]
            refused = sum(r.status == 429 for r in served)
            pipe.send((len(served), refused, _busiest(other, 10.0), _busiest(search, 1.0)))
    fake.stop()


def min_calls(records: int) -> int:
    calls = 0
    for start in range(0, records, PAGE):
        deals = min(PAGE, records - start)
        calls += 1  # the search page
        calls += 2 * math.ceil(deals / ASSOCIATION_BATCH)  # deal -> contacts, deal -> company
        calls += math.ceil(CONTACTS_PER_DEAL * deals / OBJECT_BATCH)
        calls += math.ceil(deals / OBJECT_BATCH)  # companies
    return calls + math.ceil(records / OBJECT_BATCH)  # task batch creates


def run(records: int, latency_ms: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child, records, latency_ms / 1000), daemon=True)
    server.start()
    try:
        base_url, token = parent.recv()
        os.environ[TOKEN_ENV] = token
        settings = HubSpotSettings(access_token=f"env:{TOKEN_ENV}", base_url=base_url)
        conn = open_connector("hubspot", settings)
        assert conn.source is not None and conn.sink is not None
        plugin.doctor(settings, fix=True)  # creates syncd_key: set-up, not counted
        for check in conn.checks:
            check()
        parent.send("count")
        before = int(parent.recv())

        started = time.monotonic()
        read = written = 0
        pending: list[TouchSpec] = []

        def flush(specs: list[TouchSpec]) -> int:
            assert conn.sink is not None
            results = conn.sink.write(specs)
            return sum(r.status is WriteStatus.OK for r in results)

        for page in conn.source.read(None, datetime.now(UTC)):
            for event in page.events:
                read += 1
                pending.append(
                    TouchSpec(
                        key=f"{read:040x}",
                        write=WriteKind.TASK,
                        prospect=ProspectRef("hubspot", "contact", event.prospect.ref.id),
                        due=date(2031, 1, 15),
                        subject="Thank you",
                        body="Brief",
                        channel=TaskChannel.EMAIL,
                        account_id=event.prospect.account.ref.id
                        if event.prospect.account
                        else None,
                        opportunity_id=event.opportunity_id,
                    )
                )
                if len(pending) == conn.sink.batch_size:
                    written += flush(pending)
                    pending = []
        if pending:
            written += flush(pending)
        elapsed = time.monotonic() - started

        parent.send("count")
        calls = int(parent.recv()) - before
    finally:
        parent.send("stop")
        server.join(timeout=10)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "records": read,
        "tasks": written,
        "calls": calls,
        "min_calls": min_calls(records),
        "records_per_s": round(read / elapsed, 1) if elapsed else 0.0,
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def main(argv: list[str] | None = None) -> None:
    connector_main(__doc__.split("\n")[0], run, 5000, argv)


if __name__ == "__main__":
    main()
