"""The Salesforce part of `syncd sandbox` / `syncd demo`: a local org seeded through its API.

The demo org is built the way a real one is, through simple-salesforce against the fake:
accounts, contacts (some opted out), opportunities that move from the stage they reached to
Closed Lost on their loss date (so SystemModstamp and the stage history tell the truth), contact
roles, and leads moved to a rejection status. Users, a lead queue and the nurture campaign are
set up directly, as an admin would in Setup. The shard authenticates with JWT bearer against a
key pair generated per sandbox; the private key is written 0600 under the work directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce.api import Salesforce

from syncd.connectors import SandboxShard
from syncd.testing.demo_data import DemoCompany, DemoLead, DemoWorld, demo_world
from syncd_salesforce.fake import FakeSalesforce
from syncd_salesforce.transport import SalesforceAdapter

CONSUMER_KEY = "syncd-sandbox-app"
USERNAME = "integration@syncd-sandbox.example"
DEMO_LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Unqualified",
    "Not Interested",
    "Bad Timing",
    "Nurture",
    "Closed - Converted",
)
REPS = (
    ("Avery Stone", "America/New_York"),
    ("Mila Jensen", "Europe/Berlin"),
    ("Rafael Ortiz", "America/Los_Angeles"),
)
COUNTRY_NAMES = {
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "ES": "Spain",
    "CA": "Canada",
    "NL": "Netherlands",
    "AU": "Australia",
}
LOSS_REASONS = {
    "Timing": "not_now",
    "Budget": "budget",
    "Price": "budget",
    "Competitor": "competitor",
    "Missing feature": "product_gap",
    "No decision": "no_decision",
    "Went dark": "no_decision",
    "Not interested": "not_interested",
}
LEAD_REASONS = {
    "Unqualified": "other",
    "Not Interested": "not_interested",
    "Bad Timing": "not_now",
    "Nurture": "not_now",
}


def key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) for the sandbox's JWT bearer flow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def write_secret(path: Path, value: str) -> None:
    """Create the file 0600 from the start (never briefly world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)


def api_client(fake: FakeSalesforce) -> Salesforce:
    """simple-salesforce on the fake with a directly issued token (for seeding)."""
    session = requests.Session()
    session.mount("https://", SalesforceAdapter(timeout_s=30, verify=True, base_url=fake.base_url))
    return Salesforce(
        session_id=fake.issue_token(),
        instance_url=fake.base_url,
        session=session,
        object_pairs_hook=dict,
    )


def _chunks(items: Sequence[dict[str, Any]], size: int = 200) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def create_all(sf: Salesforce, sobject: str, records: Sequence[dict[str, Any]]) -> list[str]:
    """Insert through sObject Collections, 200 a call; returns the new ids in order."""
    ids: list[str] = []
    for chunk in _chunks(records):
        body = {
            "allOrNone": True,
            "records": [{"attributes": {"type": sobject}, **r} for r in chunk],
        }
        for result in sf.restful("composite/sobjects", method="POST", json=body) or []:
            if not result["success"]:
                raise RuntimeError(f"seeding {sobject} failed: {result['errors'][0]['statusCode']}")
            ids.append(result["id"])
    return ids


def seed_demo(fake: FakeSalesforce, world: DemoWorld, owners: list[str], queue: str) -> None:
    sf = api_client(fake)
    companies = list(world.companies)
    earliest = min([d.closed_at for d in world.deals] + [lead.updated_at for lead in world.leads])
    with fake.org.clock_at(earliest - timedelta(days=30)):
        account_ids = create_all(
            sf,
            "Account",
            [
                {
                    "Name": c.name,
                    "NumberOfEmployees": c.employees,
                    "AnnualRevenue": c.annual_revenue,
                    "Industry": c.industry,
                    "BillingCountryCode": c.country,
                    "BillingCountry": COUNTRY_NAMES.get(c.country, c.country),
                    "Website": f"https://{c.domain}",
                    "OwnerId": owners[i % len(owners)],
                }
                for i, c in enumerate(companies)
            ],
        )
        account_of = {c.id: a for c, a in zip(companies, account_ids, strict=True)}
        lead_people = {lead.person.id for lead in world.leads}
        people = [p for p in world.people if p.id not in lead_people]
        contact_ids = create_all(
            sf,
            "Contact",
            [
                {
                    "FirstName": p.first_name,
                    "LastName": p.last_name,
                    "Email": p.email,
                    "Title": p.title,
                    "Department": p.department,
                    "AccountId": account_of[p.company_id],
                    "HasOptedOutOfEmail": p.opted_out_email,
                    "DoNotCall": p.do_not_call,
                }
                for p in people
            ],
        )
        contact_of = {p.id: c for p, c in zip(people, contact_ids, strict=True)}
        deals = [d for d in world.deals if any(c in contact_of for c in d.contact_ids)]
        opp_ids = create_all(
            sf,
            "Opportunity",
            [
                {
                    "Name": d.name,
                    "AccountId": account_of[d.company_id],
                    "StageName": d.stage_reached,
                    "CloseDate": (d.closed_at + timedelta(days=14)).date().isoformat(),
                    "Amount": d.amount,
                    "OwnerId": owners[i % len(owners)],
                }
                for i, d in enumerate(deals)
            ],
        )
        create_all(
            sf,
            "OpportunityContactRole",
            [
                {
                    "OpportunityId": opp,
                    "ContactId": contact_of[c],
                    "IsPrimary": n == 0,
                    "Role": "Decision Maker" if n == 0 else "Evaluator",
                }
                for d, opp in zip(deals, opp_ids, strict=True)
                for n, c in enumerate(x for x in d.contact_ids if x in contact_of)
            ],
        )
        by_company = {c.id: c for c in companies}
        lead_ids = create_all(
            sf,
            "Lead",
            [
                _lead(
                    lead,
                    by_company[lead.person.company_id],
                    queue if i % 4 == 0 else owners[i % len(owners)],
                )
                for i, lead in enumerate(world.leads)
            ],
        )
    for deal, opp in zip(deals, opp_ids, strict=True):
        with fake.org.clock_at(deal.closed_at):
            sf.restful(
                f"sobjects/Opportunity/{opp}",
                method="PATCH",
                json={
                    "StageName": "Closed Lost",
                    "CloseDate": deal.closed_at.date().isoformat(),
                    "Loss_Reason__c": deal.loss_reason,
                    "Competitor__c": deal.competitor,
                },
            )
    for lead, lead_id in zip(world.leads, lead_ids, strict=True):
        with fake.org.clock_at(lead.updated_at):
            sf.restful(f"sobjects/Lead/{lead_id}", method="PATCH", json={"Status": lead.status})


def _lead(lead: DemoLead, company: DemoCompany, owner: str) -> dict[str, Any]:
    person = lead.person
    return {
        "FirstName": person.first_name,
        "LastName": person.last_name,
        "Email": person.email,
        "Title": person.title,
        "Company": company.name,
        "NumberOfEmployees": company.employees,
        "Industry": company.industry,
        "CountryCode": company.country,
        "HasOptedOutOfEmail": person.opted_out_email,
        "DoNotCall": person.do_not_call,
        "OwnerId": owner,
    }


class SalesforceSandbox:
    order = 0  # a CRM: mailboxes start after it and point at it

    def start(
        self, *, port: int, seed: str, workdir: Path, crm_shards: Mapping[str, str]
    ) -> SandboxShard:
        private, public = key_pair()
        key_file = workdir / "salesforce-jwt.key"
        write_secret(key_file, private)
        fake = FakeSalesforce(
            port,
            consumer_key=CONSUMER_KEY,
            username=USERNAME,
            jwt_public_key=public,
            lead_statuses=DEMO_LEAD_STATUSES,
        )
        fake.start()
        try:
            owners = [fake.add_user(name, tz) for name, tz in REPS]
            queue = fake.add_queue("Inbound Leads")
            campaign = fake.add_campaign("Nurture - Closed Lost", ("Sent", "Responded"))
            if seed == "demo":
                seed_demo(fake, demo_world().for_crm("salesforce"), owners, queue)
        except Exception:
            fake.stop()
            raise
        section: dict[str, Any] = {
            "type": "salesforce",
            "auth": "jwt",
            "consumer_key": CONSUMER_KEY,
            "username": USERNAME,
            "private_key": f"file:{key_file}",
            "base_url": fake.base_url,
            "loss_reasons": LOSS_REASONS,
            "lead_statuses": LEAD_REASONS,
            "fallback_owner_id": owners[0],
            "campaign_id": campaign,
            "bulk_poll_s": 0.1,
        }
        return SandboxShard(
            name="salesforce", base_url=fake.base_url, section=section, stop=fake.stop, fake=fake
        )
