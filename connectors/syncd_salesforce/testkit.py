"""Test support: a local org, seeded through its API, and connectors pointed at it.

Shared by the connector's integration tests, its contract test and the benchmark, so each of
them builds data the way a real org is filled: through simple-salesforce.
"""

from __future__ import annotations

import functools
import itertools
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.connectors import Connector
from syncd.model import Cursor, RejectionEvent
from syncd_salesforce.fake import FakeSalesforce
from syncd_salesforce.plugin import build_connector
from syncd_salesforce.sandbox import api_client, create_all, key_pair, write_secret
from syncd_salesforce.settings import SalesforceSettings

CONSUMER_KEY = "syncd-test-app"
CONSUMER_SECRET = "test-consumer-secret"  # noqa: S105 - the local fake's test app
USERNAME = "integration@syncd-test.example"
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Unqualified",
    "Not Interested",
    "Closed - Converted",
)
TEST_LEAD_MAP = {"Unqualified": "other", "Not Interested": "not_interested"}


@functools.cache
def _key_pair() -> tuple[str, str]:
    """One key pair per process: generating RSA keys for every test would dominate its time."""
    return key_pair()


class Sleeps(list[float]):
    """Stands in for time.sleep: records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class StepClock:
    """A clock that moves only when the client sleeps: set it as the fake's `clock` and pass
    `sleep` to the connector, and bulk jobs finish after the waits the client made."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def read_all(
    conn: Connector, cursor: Cursor | None = None, until: datetime | None = None
) -> tuple[list[RejectionEvent], Cursor | None]:
    """Every event from `cursor` up to `until` (default: tomorrow), and the final cursor."""
    assert conn.source is not None
    events: list[RejectionEvent] = []
    last = cursor
    for page in conn.source.read(cursor, until or datetime.now(UTC) + timedelta(days=1)):
        events.extend(page.events)
        last = page.cursor
    return events, last


class LocalOrg:
    """A started FakeSalesforce with a JWT key pair, a sales rep and seeding helpers. Its bulk
    query jobs complete at once unless a test gives them processing time."""

    def __init__(self, workdir: Path | None = None, **fake_options: Any):
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="syncd-sf-"))
        private, public = _key_pair()
        self.key_file = self.workdir / "salesforce-jwt.key"
        write_secret(self.key_file, private)
        fake_options.setdefault("lead_statuses", LEAD_STATUSES)
        self.fake = FakeSalesforce(
            consumer_key=CONSUMER_KEY,
            consumer_secret=CONSUMER_SECRET,
            username=USERNAME,
            jwt_public_key=public,
            **fake_options,
        )
        self.fake.bulk.queue_s = self.fake.bulk.row_s = 0.0
        self.fake.start()
        self.rep = self.fake.add_user("Dana Rep", "Europe/Paris")
        self.api = api_client(self.fake)
        self._serial = itertools.count(1)

    def stop(self) -> None:
        self.fake.stop()

    # --- connectors ----------------------------------------------------------------------------

    def settings(self, **overrides: Any) -> SalesforceSettings:
        values: dict[str, Any] = {
            "auth": "jwt",
            "consumer_key": CONSUMER_KEY,
            "username": USERNAME,
            "private_key": f"file:{self.key_file}",
            "base_url": self.fake.base_url,
            "retry_base_s": 0.001,
            "bulk_poll_s": 0.0,
            "lead_statuses": TEST_LEAD_MAP,
        }
        values.update(overrides)
        return SalesforceSettings.model_validate(values)

    def connector(
        self,
        name: str = "sf",
        *,
        sleep: Callable[[float], None] = time.sleep,
        **overrides: Any,
    ) -> Connector:
        return build_connector(
            name, self.settings(**overrides), state_dir=self.workdir, sleep=sleep
        )

    # --- seeding through the API ---------------------------------------------------------------

    def _n(self) -> int:
        return next(self._serial)

    def account(self, **fields: Any) -> str:
        values = {
            "Name": f"Account {self._n()}",
            "NumberOfEmployees": 250,
            "BillingCountry": "Germany",
            **fields,
        }
        return create_all(self.api, "Account", [values])[0]

    def contacts(self, account_id: str | None, count: int, **fields: Any) -> list[str]:
        rows = []
        for _ in range(count):
            n = self._n()
            rows.append(
                {
                    "FirstName": "Pat",
                    "LastName": f"Person {n}",
                    "AccountId": account_id,
                    "Email": f"pat.{n}@example.com",
                    **fields,
                }
            )
        return create_all(self.api, "Contact", rows)

    def closed_lost(
        self,
        *,
        contacts: int = 1,
        stage: str = "Proposal",
        reason: str | None = "Budget",
        competitor: str | None = None,
        amount: float | None = 12_000.0,
        primary: int = 0,
        account: dict[str, Any] | None = None,
        owner: str | None = None,
    ) -> str:
        """An opportunity that reached `stage`, then was lost; returns its id. Its contacts
        are owned by the integration user (as records an import created are)."""
        account_id = self.account(**(account or {}))
        people = self.contacts(account_id, contacts)
        opp = create_all(
            self.api,
            "Opportunity",
            [
                {
                    "Name": f"Deal {self._n()}",
                    "AccountId": account_id,
                    "StageName": stage,
                    "CloseDate": "2030-01-31",
                    "Amount": amount,
                    "OwnerId": owner or self.rep,
                }
            ],
        )[0]
        if people:
            create_all(
                self.api,
                "OpportunityContactRole",
                [
                    {
                        "OpportunityId": opp,
                        "ContactId": c,
                        "IsPrimary": i == primary,
                        "Role": "Decision Maker",
                    }
                    for i, c in enumerate(people)
                ],
            )
        lost = {"StageName": "Closed Lost", "Loss_Reason__c": reason, "Competitor__c": competitor}
        self.api.restful(f"sobjects/Opportunity/{opp}", method="PATCH", json=lost)
        return opp

    def closed_lost_many(
        self, count: int, *, contacts: int = 1, stage: str = "Negotiation", reason: str = "Timing"
    ) -> list[str]:
        """`count` lost opportunities seeded 200 records a call; returns their ids in order."""
        accounts = create_all(
            self.api,
            "Account",
            [
                {"Name": f"Bulk Account {self._n()}", "BillingCountry": "France"}
                for _ in range(count)
            ],
        )
        people = create_all(
            self.api,
            "Contact",
            [
                {"LastName": f"Bulk {self._n()}", "AccountId": a, "Email": f"b{self._n()}@ex.com"}
                for a in accounts
                for _ in range(contacts)
            ],
        )
        opps = create_all(
            self.api,
            "Opportunity",
            [
                {
                    "Name": f"Bulk Deal {self._n()}",
                    "AccountId": a,
                    "StageName": stage,
                    "CloseDate": "2030-01-31",
                    "Amount": 5000.0,
                    "OwnerId": self.rep,
                }
                for a in accounts
            ],
        )
        create_all(
            self.api,
            "OpportunityContactRole",
            [
                {"OpportunityId": o, "ContactId": people[i * contacts + j], "IsPrimary": j == 0}
                for i, o in enumerate(opps)
                for j in range(contacts)
            ],
        )
        lost = [
            {
                "attributes": {"type": "Opportunity"},
                "Id": o,
                "StageName": "Closed Lost",
                "Loss_Reason__c": reason,
            }
            for o in opps
        ]
        for start in range(0, len(lost), 200):
            body = {"allOrNone": True, "records": lost[start : start + 200]}
            self.api.restful("composite/sobjects", method="PATCH", json=body)
        return opps

    def lead(self, status: str = "Unqualified", **fields: Any) -> str:
        n = self._n()
        values = {
            "FirstName": "Lee",
            "LastName": f"Lead {n}",
            "Company": f"Lead Co {n}",
            "Email": f"lee.{n}@example.org",
            "OwnerId": self.rep,
            **fields,
        }
        lead = create_all(self.api, "Lead", [values])[0]
        self.api.restful(f"sobjects/Lead/{lead}", method="PATCH", json={"Status": status})
        return lead

    def complete_task(self, task_id: str) -> None:
        """What a rep does in Salesforce: mark the task completed (through simple-salesforce)."""
        self.api.restful(f"sobjects/Task/{task_id}", method="PATCH", json={"Status": "Completed"})

    def tasks(self) -> list[dict[str, Any]]:
        """Every live Task in the org (read directly, not through the API)."""
        with self.fake.org.lock:
            return [dict(t) for t in self.fake.org.records["Task"].values() if not t["IsDeleted"]]
