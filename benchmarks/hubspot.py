"""HubSpot connector benchmark: API calls, throughput and memory for N closed-lost deals.

    python -m benchmarks.hubspot --records 5000 --latency-ms 25 [--limits 0,190,100] [--json]

The fake portal runs in a child process (so the parent's peak RSS is the connector's alone)
holding N closed-lost deals, each with two contacts and a company. The parent reads every
deal through Source.read, builds one task per deal and writes them through Sink.write in
batches of the sink's batch size as pages arrive (streaming: nothing is held for all N).

`calls` counts the requests the fake served during the run, `calls_per_200` the same per 200
deals (one search page). `min_calls` is what the job needs at the least: ceil(N / 200) search
pages, the two association batch reads (deal -> contacts, deal -> company; 1,000 ids a call),
the contact and company batch reads (100 a call) and ceil(tasks / 100) batch creates. The
difference is fixed overhead (the pipelines call, the empty contact-status search).

Each `--limits` value is one run with the fake enforcing that many calls per rolling 10 s
(0: unlimited) besides search's 5 a second; syncd keeps to `--share` of it (default: the
private-app burst limit of 190 and the default rate_share 0.5). `of_share` is the budgeted
(non-search) calls per 10 s over limit x share: how much of its share syncd used. The set-up
calls (doctor, checks) are left to leave the window before the timed run starts. The busiest
10-s window (non-search) and 1-s window (search) are reported and asserted within the limits.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing as mp
import os
import resource
import time
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

import structlog

from syncd.model import ProspectRef, TaskChannel, TouchSpec, WriteKind, WriteStatus
from syncd_hubspot import plugin
from syncd_hubspot.connector import open_connector
from syncd_hubspot.fake import HubSpotFake
from syncd_hubspot.schema import SYNCD_KEY_DEFINITION
from syncd_hubspot.settings import HubSpotSettings

CONTACTS_PER_DEAL = 2
PAGE = 200
OBJECT_BATCH = 100
ASSOCIATION_BATCH = 1000
SEARCH_PER_S = 5  # what the fake enforces
TEN_SECOND_LIMIT = 190  # a Professional / Enterprise private app's burst limit
SHARE = 0.5  # rate_share's default
UNLIMITED = 10**9
TOKEN_ENV = "SYNCD_BENCH_HUBSPOT_TOKEN"  # noqa: S105 - a variable's name, not a secret


def _busiest(times: list[float], window: float) -> int:
    """The most calls in any `window` seconds (sliding)."""
    best = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _serve(
    pipe: Connection, records: int, latency_s: float, ten_second_limit: int = UNLIMITED
) -> None:
    """Child process: seed the fake portal, then answer 'count' / 'stats' until 'stop'."""
    fake = HubSpotFake(ten_second_limit=ten_second_limit)
    # The portal as `syncd doctor --fix` leaves it: tasks carry the syncd_key property.
    fake.portal.create_property("tasks", SYNCD_KEY_DEFINITION)
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
        with fake.lock:
            served = list(fake.served)
        search = [r.at for r in served if r.path.endswith("/search")]
        other = [r.at for r in served if not r.path.endswith("/search")]
        if command == "count":  # all calls, budgeted (not search) calls
            pipe.send((len(served), len(other)))
        elif command == "stats":  # calls, 429s, busiest 10 s (not search), busiest 1 s search
            refused = sum(r.status == 429 for r in served)
            pipe.send((len(served), refused, _busiest(other, 10.0), _busiest(search, 1.0)))
    fake.stop()


def min_calls(records: int) -> int:
    searches = math.ceil(records / PAGE)
    associations = 2 * math.ceil(records / ASSOCIATION_BATCH)  # deal -> contacts, -> company
    contacts = math.ceil(CONTACTS_PER_DEAL * records / OBJECT_BATCH)
    companies = math.ceil(records / OBJECT_BATCH)
    tasks = math.ceil(records / OBJECT_BATCH)
    return searches + associations + contacts + companies + tasks


def run(
    records: int, latency_ms: float, limit: int = TEN_SECOND_LIMIT, share: float = SHARE
) -> dict[str, Any]:
    """One run against a fake enforcing `limit` calls per 10 s (0: unlimited)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    enforced = limit or UNLIMITED
    server = ctx.Process(
        target=_serve, args=(child, records, latency_ms / 1000, enforced), daemon=True
    )
    server.start()
    try:
        base_url, token = parent.recv()
        os.environ[TOKEN_ENV] = token
        settings = HubSpotSettings(
            access_token=f"env:{TOKEN_ENV}", base_url=base_url, rate_share=share
        )
        conn = open_connector("hubspot", settings)
        assert conn.source is not None and conn.sink is not None
        plugin.doctor(settings, fix=True)  # set-up, not counted
        for check in conn.checks:
            check()
        if limit:  # the set-up's calls leave the 10-second window before the timed run
            time.sleep(10.0)
        parent.send("count")
        before, budgeted_before = parent.recv()

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
        after, budgeted_after = parent.recv()
        parent.send("stats")
        _, refused, busiest_10s, busiest_search_1s = parent.recv()
    finally:
        parent.send("stop")
        server.join(timeout=10)
    calls = after - before
    budgeted = budgeted_after - budgeted_before
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {
        "records": read,
        "tasks": written,
        "calls": calls,
        "min_calls": min_calls(records),
        "calls_per_200": round(calls * PAGE / read, 2) if read else 0.0,
        "records_per_s": round(read / elapsed, 1) if elapsed else 0.0,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "limit_10s": limit,
        "share": share,
        "budgeted_calls": budgeted,
        "of_share": round(budgeted / elapsed * 10 / (limit * share), 3)
        if limit and elapsed
        else None,
        "busiest_10s_calls": busiest_10s,
        "busiest_search_1s": busiest_search_1s,
        "refused_429": refused,
    }
    assert busiest_10s <= enforced and busiest_search_1s <= SEARCH_PER_S, figures
    return figures


def main(argv: list[str] | None = None) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument(
        "--limits",
        default=str(TEN_SECOND_LIMIT),
        help="comma-separated calls per 10 s the fake enforces, one run each (0: unlimited)",
    )
    parser.add_argument("--share", type=float, default=SHARE, help="syncd's rate_share")
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")
    args = parser.parse_args(argv)
    for limit in (int(v) for v in args.limits.split(",")):
        figures = run(args.records, args.latency_ms, limit, args.share)
        if args.json:
            print(json.dumps(figures), flush=True)
            continue
        budget = f"{limit} / 10 s at share {args.share}" if limit else "unlimited"
        used = f", {figures['of_share']:.0%} of the share" if limit else ""
        print(
            f"[{budget}] {figures['records']} records -> {figures['tasks']} tasks in "
            f"{figures['calls']} calls (minimum {figures['min_calls']}; "
            f"{figures['calls_per_200']} per 200 deals); {figures['records_per_s']} records/s"
            f"{used}; busiest 10 s {figures['busiest_10s_calls']} calls, busiest search second "
            f"{figures['busiest_search_1s']}; {figures['refused_429']} refused; "
            f"peak RSS {figures['peak_rss_mb']} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
