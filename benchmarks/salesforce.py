"""Salesforce connector throughput, API calls and memory against the local Salesforce.

    python -m benchmarks.salesforce --records 20000 --latency-ms 25 [--json]

The org holds N rejections (four in five are closed-lost opportunities with one or two
contact roles, the rest rejected leads), seeded in a separate process so the figures here
are the connector's alone. One first read goes through Source.read (Bulk API 2.0 above the
backfill threshold, REST pages of 2,000 below it), one task per event is written through
Sink.write in batches of 200, and every HTTP request the fake receives is counted.
`min_calls` = ceil(N / 2000) reads + ceil(tasks / 200) writes; targets: calls <= 1.1 x
min_calls, peak RSS flat as N grows, >= 2,000 records/s at N = 20,000.

The fake runs as Salesforce does: a bulk query job queues for 2 s, then takes 0.1 ms a row
(`fake_bulk.py`), and the connector polls on its defaults (0.5 s, then backing off to
`bulk_poll_s` = 2 s). The org's documented allocations are on (`fake_limits.py`): API
requests a day for an Enterprise org of 50 licences, 25 concurrent long-running requests,
10,000 query jobs a day. The run is repeated with them off; `unlimited` holds those figures,
`limits` what the limited run came to at its busiest second, and the run fails if any second
went over a limit.
"""

from __future__ import annotations

import math
import multiprocessing
import resource
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.common import connector_main
from syncd.model import TaskChannel, TouchSpec, WriteKind, WriteStatus
from syncd_salesforce.fake import FakeSalesforce
from syncd_salesforce.fake_limits import enterprise_daily_requests
from syncd_salesforce.plugin import build_connector
from syncd_salesforce.sandbox import key_pair, write_secret
from syncd_salesforce.settings import SalesforceSettings

CONSUMER_KEY = "syncd-benchmark-app"
USERNAME = "integration@syncd-benchmark.example"
LEAD_STATUSES = ("Open - Not Contacted", "Unqualified", "Not Interested", "Closed - Converted")
START = datetime(2024, 1, 1, tzinfo=UTC)
LICENCES = 50  # Salesforce's own sizing example: 100,000 + 50 x 1,000 requests a day
UNLIMITED = 10**12


def seed(fake: FakeSalesforce, records: int) -> None:
    """N rejections straight into the org (the seeding is not what is measured)."""
    org = fake.org
    rep = fake.add_user("Bench Rep", "Europe/Berlin")
    account = ""
    for i in range(records):
        with org.clock_at(START + timedelta(seconds=i)):
            if i % 5 == 4:
                org.insert(
                    "Lead",
                    {
                        "LastName": f"Lead {i}",
                        "Company": f"Co {i}",
                        "OwnerId": rep,
                        "Email": f"lead{i}@example.org",
                        "Status": "Unqualified",
                    },
                )
                continue
            if i % 10 == 0:
                account = org.insert(
                    "Account",
                    {"Name": f"Account {i}", "NumberOfEmployees": i, "BillingCountryCode": "DE"},
                )
            opp = org.insert(
                "Opportunity",
                {
                    "Name": f"Deal {i}",
                    "AccountId": account,
                    "StageName": "Proposal",
                    "CloseDate": "2024-02-01",
                    "Amount": 1000.0 + i,
                    "OwnerId": rep,
                },
            )
            for n in range(1 + i % 2):
                contact = org.insert(
                    "Contact",
                    {
                        "LastName": f"P{i}-{n}",
                        "AccountId": account,
                        "Email": f"p{i}.{n}@example.com",
                    },
                )
                org.insert(
                    "OpportunityContactRole",
                    {"OpportunityId": opp, "ContactId": contact, "IsPrimary": n == 0},
                )
            org.update("Opportunity", opp, {"StageName": "Closed Lost", "Loss_Reason__c": "Price"})


def serve(
    pipe: Connection, records: int, latency_s: float, public_key: str, limits: bool = True
) -> None:
    """The fake's process: seed, report the port, answer call counts ("count") and how the
    traffic stood against the org's limits ("limits") until told to stop."""
    fake = FakeSalesforce(
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        jwt_public_key=public_key,
        lead_statuses=LEAD_STATUSES,
        api_limit=enterprise_daily_requests(LICENCES) if limits else UNLIMITED,
    )
    if not limits:
        fake.long_running_limit = fake.bulk.daily_jobs = UNLIMITED
    seed(fake, records)
    fake.start()
    fake.latency_s = latency_s
    pipe.send(fake.port)
    while (command := pipe.recv()) != "stop":
        if command == "count":
            pipe.send(fake.count())
            continue
        assert command == "limits"
        enforced = fake.limits() if limits else {}
        pipe.send(
            {
                "enforced": enforced,
                "busiest_1s": fake.peaks.busiest(),
                "seconds_over": fake.peaks.seconds_over() if limits else [],
                "refused": dict(fake.peaks.refused),
            }
        )
    fake.stop()


def run(records: int, latency_ms: float) -> dict[str, Any]:
    """The run at Salesforce's limits, and the same run without them (`unlimited`)."""
    figures = measure(records, latency_ms, limits=True)
    unlimited = measure(records, latency_ms, limits=False)
    unlimited.pop("limits")
    return {**figures, "unlimited": unlimited}


def measure(records: int, latency_ms: float, *, limits: bool) -> dict[str, Any]:
    private, public = key_pair()
    workdir = Path(tempfile.mkdtemp(prefix="syncd-bench-"))
    key_file = workdir / "jwt.key"
    write_secret(key_file, private)
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=serve, args=(child, records, latency_ms / 1000, public, limits), daemon=True
    )
    process.start()
    try:
        port = parent.recv()
        settings = SalesforceSettings(
            consumer_key=CONSUMER_KEY,
            username=USERNAME,
            private_key=f"file:{key_file}",  # type: ignore[arg-type]
            base_url=f"http://127.0.0.1:{port}",
            lead_statuses={"Unqualified": "other"},  # type: ignore[dict-item]
            # bulk jobs polled on syncd's defaults (0.5 s, 1 s, then every 2 s), as in the
            # engine's run
        )
        conn = build_connector("bench", settings, state_dir=workdir)
        assert conn.source is not None and conn.sink is not None
        started = time.perf_counter()
        tasks = 0
        pending: list[TouchSpec] = []

        def flush() -> int:
            assert conn.sink is not None
            done = conn.sink.write(pending)
            pending.clear()
            return sum(r.status is WriteStatus.OK for r in done)

        for page in conn.source.read(None, datetime.now(UTC)):
            for event in page.events:
                pending.append(
                    TouchSpec(
                        key=f"bench-{event.event_id}",
                        write=WriteKind.TASK,
                        prospect=event.prospect.ref,
                        due=date(2030, 1, 2),
                        subject="Check in",
                        body="Why now: call-back date reached.",
                        channel=TaskChannel.CALL,
                        owner_id=event.prospect.owner.id if event.prospect.owner else None,
                        opportunity_id=event.opportunity_id,
                    )
                )
                if len(pending) == conn.sink.batch_size:
                    tasks += flush()
        if pending:
            tasks += flush()
        elapsed = time.perf_counter() - started
        parent.send("count")
        calls = parent.recv()
        parent.send("limits")
        at_limits = parent.recv()
        conn.close()
    finally:
        parent.send("stop")
        process.join(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)  # the key and the backfill's spill files
    assert not at_limits["seconds_over"], at_limits  # no second went over a limit enforced
    return {
        "records": records,
        "tasks": tasks,
        "calls": calls,
        "min_calls": math.ceil(records / 2000) + math.ceil(tasks / 200),
        "records_per_s": round(records / elapsed, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "limits": at_limits,
    }


def main(argv: list[str] | None = None) -> None:
    connector_main(__doc__.split("\n")[0], run, 20_000, argv)


if __name__ == "__main__":
    main()
