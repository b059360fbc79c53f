"""The connector contract, run against the local Salesforce in both write modes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date

import pytest

from syncd.connectors import Connector
from syncd.model import ProspectRef, TaskChannel, TouchSpec, WriteKind
from syncd.testing.contract import ConnectorContract, FaultName
from syncd.testing.httpfake import Fault, FaultKind
from syncd_salesforce.fake import sf_error
from syncd_salesforce.sink import key_line
from syncd_salesforce.testkit import LocalOrg

_keys = itertools.count(1)


class SalesforceHarness:
    def __init__(self, org: LocalOrg, *, upsert: bool):
        self.org = org
        self.upsert = upsert

    def open(self) -> Connector:
        return self.org.connector(sleep=lambda _s: None)

    def seed_rejections(self, count: int) -> None:
        for _ in range(count):
            self.org.closed_lost()

    def touch_specs(self, count: int) -> list[TouchSpec]:
        # Called while a fault may be active: the people are put into the org directly.
        org = self.org.fake.org
        account = org.insert("Account", {"Name": "Contract Co"})
        contacts = [
            org.insert("Contact", {"LastName": f"P{i}", "AccountId": account}) for i in range(count)
        ]
        return [
            TouchSpec(
                key=f"contract-{next(_keys):06d}",
                write=WriteKind.TASK,
                prospect=ProspectRef("sf", "contact", contact),
                due=date(2030, 1, 15),
                subject="Check in",
                body="Why now: the call-back rule fired.",
                channel=TaskChannel.CALL,
                owner_id=self.org.rep,
                account_id=account,
            )
            for contact in contacts
        ]

    def remote_keys(self) -> list[str]:
        tasks = self.org.tasks()
        if self.upsert:
            return [t["Syncd_Key__c"] for t in tasks if t["Syncd_Key__c"]]
        prefix = key_line("")
        return [
            line.removeprefix(prefix)
            for t in tasks
            for line in (t["Description"] or "").splitlines()
            if line.startswith(prefix)
        ]

    def complete_task(self, key: str) -> None:
        line = key_line(key)
        task = next(
            t
            for t in self.org.tasks()
            if t.get("Syncd_Key__c") == key or (t["Description"] or "").endswith(line)
        )
        self.org.complete_task(task["Id"])

    def fail(self, fault: FaultName) -> None:
        fake = self.org.fake
        if fault is FaultName.RATE_LIMIT:
            fake.fail_with(
                403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", times=1000
            )
        elif fault is FaultName.SERVER_ERROR:
            unavailable = sf_error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
            fake.inject(Fault(FaultKind.STATUS, unavailable, times=1000))
        elif fault is FaultName.AUTH_REVOKED:
            fake.revoke_credentials()
        else:
            fake.inject(Fault(FaultKind.APPLIED_LOST, path="/composite/sobjects", times=1))

    def heal(self) -> None:
        self.org.fake.clear_faults()
        self.org.fake.restore_credentials()


class TestSalesforceContract(ConnectorContract):
    @pytest.fixture(params=["upsert", "create-and-find"])
    def harness(self, request: pytest.FixtureRequest, tmp_path) -> Iterator[SalesforceHarness]:  # type: ignore[no-untyped-def]
        upsert = request.param == "upsert"
        options = {} if upsert else {"task_external_id": None}
        org = LocalOrg(tmp_path, **options)
        try:
            yield SalesforceHarness(org, upsert=upsert)
        finally:
            org.stop()
