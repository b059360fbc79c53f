"""Fixtures for the HubSpot connector tests: a running fake portal and a connector on it.

`FakeTime` stands in for the connector's clock and sleep, so waits (rate governor, search
limiter, retries, token expiry) are recorded instead of slept. By default the fake's budgets
are set high so only the tests about limits meet them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hubspot import HubSpot

from syncd.connectors import Connector
from syncd_hubspot.connector import open_connector
from syncd_hubspot.fake import HubSpotFake
from syncd_hubspot.schema import SYNCD_KEY_DEFINITION
from syncd_hubspot.settings import HubSpotSettings

TOKEN_ENV = "SYNCD_TEST_HUBSPOT_TOKEN"
SECRET_ENV = "SYNCD_TEST_HUBSPOT_SECRET"
REFRESH_ENV = "SYNCD_TEST_HUBSPOT_REFRESH"
UNLIMITED = {"ten_second_limit": 10**6, "search_per_second": 10**6}


@dataclass
class FakeTime:
    """A monotonic clock that moves only when code sleeps or the test advances it."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Portal:
    """A fake portal with a private-app token, and helpers to fill it."""

    fake: HubSpotFake
    time: FakeTime
    monkeypatch: pytest.MonkeyPatch
    base: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=2))
    _tick: int = 0

    def __post_init__(self) -> None:
        self.token = self.fake.add_private_app()
        self.monkeypatch.setenv(TOKEN_ENV, self.token)

    def settings(self, **overrides: Any) -> HubSpotSettings:
        values: dict[str, Any] = {
            "access_token": f"env:{TOKEN_ENV}",
            "base_url": self.fake.base_url,
            "timeout_s": 5.0,
        }
        return HubSpotSettings(**(values | overrides))

    def connect(self, shard: str = "hubspot", **overrides: Any) -> Connector:
        return open_connector(
            shard, self.settings(**overrides), sleep=self.time.sleep, clock=self.time
        )

    def client(self) -> Any:
        return HubSpot(access_token=self.token, host=self.fake.base_url)

    def add_syncd_key(self) -> None:
        """The admin's one-time set-up (what `syncd doctor SHARD --fix` does)."""
        self.client().crm.properties.core_api.create("tasks", SYNCD_KEY_DEFINITION)

    # --- data ------------------------------------------------------------------------------

    def next_moment(self) -> datetime:
        """Strictly increasing modification times, in the past."""
        self._tick += 1
        return self.base + timedelta(seconds=self._tick)

    def company(self, **props: Any) -> str:
        return self.fake.seed(
            "companies", {"name": "Harbor Foods", "numberofemployees": "120", **props}
        )

    def contact(self, company: str | None = None, **props: Any) -> str:
        links = [("companies", company)] if company else []
        return self.fake.seed("contacts", {"email": f"p{self._tick}@ex.com", **props}, links)

    def lost_deal(
        self,
        contacts: list[str],
        company: str | None = None,
        *,
        stage: str = "closedlost",
        modified_at: datetime | None = None,
        visible_at: datetime | None = None,
        **props: Any,
    ) -> str:
        links = [("contacts", c) for c in contacts]
        if company:
            links.append(("companies", company))
        values = {"dealstage": stage, "dealname": "Platform", "amount": "12000", **props}
        return self.fake.seed(
            "deals",
            values,
            links,
            modified_at=modified_at or self.next_moment(),
            visible_at=visible_at,
        )

    def task_keys(self) -> list[str]:
        return self.fake.task_keys()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_portal(
    monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime
) -> Iterator[Callable[..., Portal]]:
    started: list[HubSpotFake] = []

    def make(**fake_options: Any) -> Portal:
        fake = HubSpotFake(**(UNLIMITED | fake_options))
        fake.start()
        started.append(fake)
        return Portal(fake, fake_time, monkeypatch)

    yield make
    for fake in started:
        # stop() waits for the server loop's 0.5 s poll; nothing here needs to wait for it.
        threading.Thread(target=fake.stop, daemon=True).start()


@pytest.fixture
def portal(make_portal: Callable[..., Portal]) -> Portal:
    return make_portal()
