"""The connector contract, run against the HubSpot connector on its local fake portal."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from hubspot import HubSpot

from syncd.connectors import Connector
from syncd.model import ProspectRef, TaskChannel, TouchSpec, WriteKind
from syncd.testing.contract import ConnectorContract, ContractHarness, FaultName
from syncd_hubspot.connector import open_connector
from syncd_hubspot.fake import HubSpotFake
from syncd_hubspot.fake_store import ASSOCIATION_TYPES
from syncd_hubspot.schema import SYNCD_KEY_DEFINITION
from syncd_hubspot.settings import HubSpotSettings

TOKEN_ENV = "SYNCD_CONTRACT_HUBSPOT_TOKEN"
TIMEOUT = (2.0, 5.0)


def _link(to_id: str, pair: tuple[str, str]) -> dict[str, Any]:
    return {
        "to": {"id": to_id},
        "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": ASSOCIATION_TYPES[pair]}
        ],
    }


class HubSpotHarness:
    """ContractHarness on a fake portal filled through hubspot-api-client."""

    def __init__(self, fake: HubSpotFake, monkeypatch: pytest.MonkeyPatch):
        self.fake = fake
        self.token = fake.add_private_app()
        monkeypatch.setenv(TOKEN_ENV, self.token)
        self.settings = HubSpotSettings(
            access_token=f"env:{TOKEN_ENV}",
            base_url=fake.base_url,
            timeout_s=5.0,
            find_grace_s=0.0,
        )
        self.client = HubSpot(access_token=self.token, host=fake.base_url)
        company = self.client.crm.companies.basic_api.create(
            {"properties": {"name": "Contract Co"}}, _request_timeout=TIMEOUT
        )
        self.company = str(company.id)
        self.waits: list[float] = []
        self.client.crm.properties.core_api.create("tasks", SYNCD_KEY_DEFINITION)  # set-up
        for check in self.open().checks:
            check()

    def open(self) -> Connector:
        return open_connector("hubspot", self.settings, sleep=self.waits.append)

    def _contact(self) -> str:
        created = self.client.crm.contacts.basic_api.create(
            {
                "properties": {"email": f"{uuid.uuid4().hex[:10]}@contract.example"},
                "associations": [_link(self.company, ("contacts", "companies"))],
            },
            _request_timeout=TIMEOUT,
        )
        return str(created.id)

    def seed_rejections(self, count: int) -> None:
        contact = self._contact()
        inputs = [
            {
                "properties": {"dealname": f"Deal {i}", "dealstage": "closedlost", "amount": "900"},
                "associations": [
                    _link(contact, ("deals", "contacts")),
                    _link(self.company, ("deals", "companies")),
                ],
            }
            for i in range(count)
        ]
        self.client.crm.deals.batch_api.create({"inputs": inputs}, _request_timeout=TIMEOUT)

    def touch_specs(self, count: int) -> list[TouchSpec]:
        # Set up without HTTP: the contract asks for specs while the portal is failing.
        contact = self.fake.seed("contacts", {"email": f"{uuid.uuid4().hex[:10]}@ex.com"})
        return [
            TouchSpec(
                key=uuid.uuid4().hex,
                write=WriteKind.TASK,
                prospect=ProspectRef("hubspot", "contact", contact),
                due=date(2031, 5, 5),
                subject="Check in",
                body="Brief",
                channel=TaskChannel.EMAIL,
                account_id=self.company,
            )
            for _ in range(count)
        ]

    def remote_keys(self) -> list[str]:
        with self.fake.lock:
            tasks = self.fake.portal.records["tasks"].values()
            return [t.props["syncd_key"] for t in tasks if t.props.get("syncd_key")]

    def complete_task(self, key: str) -> None:
        with self.fake.lock:
            tasks = self.fake.portal.records["tasks"].items()
            task_id = next(rid for rid, t in tasks if t.props.get("syncd_key") == key)
        self.client.crm.objects.tasks.basic_api.update(
            str(task_id), {"properties": {"hs_task_status": "COMPLETED"}}, _request_timeout=TIMEOUT
        )

    def fail(self, fault: FaultName) -> None:
        if fault is FaultName.RATE_LIMIT:
            self.fake.storm(1000)
        elif fault is FaultName.SERVER_ERROR:
            self.fake.server_errors(1000, status=502)
        elif fault is FaultName.AUTH_REVOKED:
            self.fake.revoke()
        elif fault is FaultName.LOST_RESPONSE:
            self.fake.lose_responses(1, path="/tasks/batch/create$")

    def heal(self) -> None:
        self.fake.clear_faults()
        self.fake.add_private_app(self.token)


class TestHubSpotContract(ConnectorContract):
    @pytest.fixture
    def harness(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[ContractHarness]:
        fake = HubSpotFake(ten_second_limit=10**6, search_per_second=10**6)
        fake.start()
        try:
            yield HubSpotHarness(fake, monkeypatch)
        finally:
            # stop() waits for the server loop's 0.5 s poll; nothing here needs to wait for it.
            threading.Thread(target=fake.stop, daemon=True).start()
