"""Chaos at the vendor: half of all API calls answer 429 or 5xx, or malformed bodies.

Each connector runs whole engine cycles against its local fake through the vendor's own
client library. Half the requests to the API fail (a seeded draw, so a run is
repeatable); the work must still finish, with each touch written once. Waits (Retry-After,
back-off) are recorded, not slept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.connectors import RetriableError
from syncd.engine import Engine
from syncd.testing.httpfake import Fault, FaultKind, Response
from tests.acceptance.chaos import (
    SCALE,
    cycle_until,
    duplicates_and_losses,
    outbox_keys,
    single_shard_engine,
)


def storm(status: int, body: object, path: str, headers: dict[str, str] | None = None) -> Fault:
    """Half the matching requests (seeded) answer `status`, unapplied, from now on."""
    return Fault(
        FaultKind.STATUS, Response(status, body, headers or {}), path=path, times=10**9, chance=0.5
    )


# --- Salesforce ----------------------------------------------------------------------------------


@pytest.fixture
def org(tmp_path: Path) -> Iterator[object]:
    from syncd_salesforce.testkit import LocalOrg

    local = LocalOrg(tmp_path)
    try:
        yield local
    finally:
        local.stop()


@pytest.mark.parametrize(
    ("status", "code"), [(403, "REQUEST_LIMIT_EXCEEDED"), (503, "SERVER_UNAVAILABLE")]
)
def test_salesforce_backfill_finishes_through_a_50_percent_storm(
    org: object, tmp_path: Path, status: int, code: str
) -> None:
    """A first cycle through Bulk API 2.0 with half the calls refused (concurrency limit or
    5xx) still reads every lost deal and writes one task each."""
    from syncd_salesforce.fake import sf_error
    from syncd_salesforce.testkit import LocalOrg, Sleeps

    assert isinstance(org, LocalOrg)
    opportunities = org.closed_lost_many(120 * SCALE)
    sleeps = Sleeps()
    settings = org.settings(bulk_threshold=50)
    conn = org.connector("sf", sleep=sleeps, bulk_threshold=50)
    assert conn.checks
    for check in conn.checks:
        check()
    limited = sf_error(status, code, "ConcurrentPerOrgLongTxn Limit exceeded.")
    org.fake.inject(
        Fault(FaultKind.STATUS, limited, path=r"^/services/data/", times=10**9, chance=0.5)
    )
    engine = single_shard_engine(tmp_path, "sf", "salesforce", settings, conn)

    def settled() -> bool:
        outbox = outbox_keys(f"sqlite:///{tmp_path / 'state.db'}")
        return len(outbox) >= len(opportunities) and set(outbox.values()) == {"done"}

    cycle_until(engine, "sf", settled)
    keys = [t["Syncd_Key__c"] for t in org.tasks()]
    outbox = outbox_keys(f"sqlite:///{tmp_path / 'state.db'}")
    assert duplicates_and_losses(keys, outbox) == (0, 0)
    created = [c for c in org.fake.calls("POST", r"/jobs/query$") if c.status == 200]
    assert len(created) == 3  # one job per object: resumed after errors, never restarted
    engine.store.close()


# --- HubSpot -------------------------------------------------------------------------------------


@dataclass
class HubSpotRun:
    """A portal of lost deals and an engine on it, its clock moved by the client's sleeps."""

    fake: Any  # HubSpotFake
    engine: Engine
    deals: int
    url: str

    def settled(self) -> bool:
        outbox = outbox_keys(self.url)
        return len(outbox) >= self.deals and set(outbox.values()) == {"done"}

    def task_keys(self) -> list[str]:
        return self.fake.task_keys()


@contextlib.contextmanager
def hubspot_deals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deals: int, **settings: Any
) -> Iterator[HubSpotRun]:
    """`deals` closed-lost deals (a company and a contact each) on a started fake, the
    connector's checks passed, an engine owning the shard."""
    from hubspot import HubSpot

    from syncd_hubspot.connector import open_connector
    from syncd_hubspot.fake import HubSpotFake
    from syncd_hubspot.schema import SYNCD_KEY_DEFINITION
    from syncd_hubspot.settings import HubSpotSettings

    fake = HubSpotFake(ten_second_limit=10**6, search_per_second=10**6)
    fake.start()
    try:
        token = fake.add_private_app()
        monkeypatch.setenv("SYNCD_CHAOS_HUBSPOT_TOKEN", token)
        # the admin's one-time set-up (`syncd doctor hubspot --fix`)
        HubSpot(access_token=token, host=fake.base_url).crm.properties.core_api.create(
            "tasks", SYNCD_KEY_DEFINITION
        )
        base = datetime.now(UTC) - timedelta(days=2)
        for i in range(deals):
            company = fake.seed("companies", {"name": f"Co {i}", "numberofemployees": "120"})
            contact = fake.seed("contacts", {"email": f"p{i}@ex.com"}, [("companies", company)])
            fake.seed(
                "deals",
                {"dealstage": "closedlost", "dealname": "Platform", "amount": "12000"},
                [("contacts", contact), ("companies", company)],
                modified_at=base + timedelta(seconds=i),
            )
        hs_settings = HubSpotSettings(
            access_token="env:SYNCD_CHAOS_HUBSPOT_TOKEN",
            base_url=fake.base_url,
            timeout_s=5.0,
            read_contacts=False,
            **settings,
        )
        now = [1000.0]

        def sleep(s: float) -> None:
            now[0] += max(0.0, s)

        conn = open_connector("hubspot", hs_settings, sleep=sleep, clock=lambda: now[0])
        for check in conn.checks:
            check()
        engine = single_shard_engine(tmp_path, "hubspot", "hubspot", hs_settings, conn)
        try:
            yield HubSpotRun(fake, engine, deals, f"sqlite:///{tmp_path / 'state.db'}")
        finally:
            engine.store.close()
    finally:
        fake.stop()


def test_hubspot_first_cycle_finishes_through_a_50_percent_429_storm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half the HubSpot calls answer 429 with Retry-After: the deals are all read and
    each gets exactly one task."""
    from syncd_hubspot.fake import TEN_SECONDLY, rate_limit_body

    with hubspot_deals(tmp_path, monkeypatch, 60 * SCALE) as run:
        run.fake.inject(
            storm(
                429,
                rate_limit_body(TEN_SECONDLY),
                r"^/crm/",
                {"Retry-After": "1", "X-HubSpot-RateLimit-Remaining": "0"},
            )
        )
        cycle_until(run.engine, "hubspot", run.settled)
        assert duplicates_and_losses(run.task_keys(), outbox_keys(run.url)) == (0, 0)
        assert sum(1 for r in run.fake.served if r.status == 429) > run.deals / 10


# --- Gmail ---------------------------------------------------------------------------------------


def test_gmail_replies_finish_through_a_50_percent_429_storm(tmp_path: Path) -> None:
    """Half the Gmail calls (batched ones included) answer 429 rateLimitExceeded: every
    "not now" reply still gets one threaded draft, and the CRM its writes, once each."""
    from syncd.config import EngineConfig, LoadedConfig, Shard, ShardConfig, SyncdConfig
    from syncd.store import Store
    from syncd.testing.fakes import FakeSink
    from syncd.testing.plugin import FakeSettings
    from syncd_gmail.fake_wire import google_error
    from syncd_gmail.testing import CRM_SHARD, GmailTestbed
    from tests.conftest import Clock

    bed = GmailTestbed.start(tmp_path)
    try:
        replies = 8 * SCALE
        for _ in range(replies):
            person = bed.person()
            bed.reply(str(person.email), "Not right now. Please reach out again next quarter.")
        crm_core, mailbox_core = ShardConfig(type="fake"), ShardConfig(type="gmail", crm=CRM_SHARD)
        config = LoadedConfig(
            tmp_path / "chaos.toml",
            SyncdConfig(
                shards={CRM_SHARD: crm_core, "gmail_rep": mailbox_core},
                engine=EngineConfig(lag_s=0, retry_base_s=0.001, retry_max_s=0.01, max_attempts=50),
            ),
            {
                CRM_SHARD: Shard(CRM_SHARD, crm_core, FakeSettings(events_file="-", remote_db="-")),
                "gmail_rep": Shard("gmail_rep", mailbox_core, bed.settings()),
            },
        )
        from syncd.connectors import Connector

        crm_sink = FakeSink()
        mailbox = bed.open()
        for check in mailbox.checks:
            check()
        bed.fake.inject(
            storm(429, google_error(429, "Too many requests", "rateLimitExceeded").body, "^/")
        )
        clock = Clock(datetime.now(UTC))
        url = f"sqlite:///{tmp_path / 'state.db'}"
        store = Store.open(url, clock=clock.ts)
        connectors = {
            CRM_SHARD: Connector(directory=bed.directory, sink=crm_sink),
            "gmail_rep": mailbox,
        }
        engine = Engine(config, store, connectors, clock=clock)
        for shard in connectors:
            epoch = store.acquire_shard(shard, "chaos", 86400)
            assert epoch is not None
            engine.epochs[shard] = epoch

        def settled() -> bool:
            outbox = outbox_keys(url)
            return set(outbox.values()) == {"done"} and len(bed.drafts()) >= replies

        for _ in range(150):  # a draft needs each of its calls to get through
            for shard in ("gmail_rep", CRM_SHARD):
                with contextlib.suppress(RetriableError):
                    engine.cycle(shard)
            clock.advance(60)
            if settled():
                break
        outbox = outbox_keys(url)
        assert set(outbox.values()) == {"done"}
        assert len(bed.drafts()) == replies
        written = bed.draft_keys() + crm_sink.keys()
        assert duplicates_and_losses(written, outbox) == (0, 0)
        assert sum(1 for r in bed.fake.calls() if r.status == 429) > replies / 5
        store.close()
    finally:
        bed.stop()


# --- malformed bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["{}", "<html>502 Bad Gateway</html>", '{"results": 7}'])
def test_hubspot_malformed_answers_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    """Half the HubSpot reads answer 200 with a body that is not what the API promises: the
    cycle treats them as errors, not as empty pages, so every deal still gets its one task."""
    with hubspot_deals(tmp_path, monkeypatch, 30 * SCALE, page_size=10) as run:
        run.fake.inject(
            Fault(
                FaultKind.STATUS,
                Response(200, body, {}),
                path=r"/search$|/batch/read$",
                times=10**9,
                chance=0.5,
            )
        )
        cycle_until(run.engine, "hubspot", run.settled, cycles=60)
        assert duplicates_and_losses(run.task_keys(), outbox_keys(run.url)) == (0, 0)
