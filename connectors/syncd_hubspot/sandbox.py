"""The HubSpot part of `syncd sandbox` / `syncd demo`: a seeded local portal.

The demo portal holds the HubSpot half of the shared demo world, created through the API with
hubspot-api-client like a real portal would be filled: companies, their contacts (some
unsubscribed from all e-mail, some marked do-not-call, some with a rejecting lead status),
and closed-lost deals in two pipelines, the built-in one and an "Enterprise" pipeline whose
stage ids are numeric as custom pipelines' are. Deals are back-dated to their close date.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubspot import HubSpot

from syncd.connectors import SandboxShard
from syncd.testing.demo_data import DemoWorld, demo_world
from syncd_hubspot.fake import HubSpotFake
from syncd_hubspot.fake_search import format_time
from syncd_hubspot.fake_store import ASSOCIATION_TYPES, LAST_MODIFIED
from syncd_hubspot.schema import SYNCD_KEY_DEFINITION

SHARD = "hubspot"
ENTERPRISE_PIPELINE = "1047362"
ENTERPRISE_STAGES = [
    ("1047363", "Discovery", 0.1, False),
    ("1047364", "Solution Design", 0.3, False),
    ("1047365", "Security Review", 0.5, False),
    ("1047366", "Procurement", 0.8, False),
    ("1047367", "Won", 1.0, True),
    ("1047368", "Lost", 0.0, True),
]
LOST_STAGE = {"default": "closedlost", "enterprise": "1047368"}
PIPELINE_ID = {"default": "default", "enterprise": ENTERPRISE_PIPELINE}
LEAD_STATUS = {
    "Unqualified": "UNQUALIFIED",
    "Not Interested": "NOT_INTERESTED",
    "Bad Timing": "BAD_TIMING",
    "Nurture": "NURTURE",
}
SANDBOX_LEAD_STATUSES = {
    "UNQUALIFIED": "not_a_fit",
    "NOT_INTERESTED": "not_interested",
    "BAD_TIMING": "not_now",
    "NURTURE": "not_now",
}
OWNERS = ("71001", "71002", "71003")
SUBSCRIPTION = ("5001", "Sales follow-ups")
DO_NOT_CALL = "syncd_do_not_call"
INDEX_DELAY_S = 1.0
TIMEOUT = (5.0, 30.0)


@dataclass(frozen=True)
class Seeded:
    nurture_list_id: str
    companies: int
    contacts: int
    deals: int


def _link(to_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": to_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


def _create_all(api: Any, inputs: Sequence[dict[str, Any]]) -> list[str]:
    """Batch-create, 100 a call; ids in input order (matched by objectWriteTraceId)."""
    ids: list[str] = []
    for start in range(0, len(inputs), 100):
        chunk = [
            {**item, "objectWriteTraceId": str(i)}
            for i, item in enumerate(inputs[start : start + 100])
        ]
        answer = api.create({"inputs": chunk}, _request_timeout=TIMEOUT)
        by_trace = {r.object_write_trace_id: r.id for r in answer.results}
        ids += [str(by_trace[str(i)]) for i in range(len(chunk))]
    return ids


def seed_portal(fake: HubSpotFake, token: str, world: DemoWorld) -> Seeded:
    """Fill an empty fake portal with `world` through the API."""
    client = HubSpot(access_token=token, host=fake.base_url)
    fake.add_pipeline(ENTERPRISE_PIPELINE, "Enterprise", ENTERPRISE_STAGES)
    fake.add_property_options("contacts", "hs_lead_status", "NOT_INTERESTED", "NURTURE")
    fake.add_subscription(*SUBSCRIPTION)
    for number, owner_id in enumerate(OWNERS, start=1):  # the reps who own the seeded records
        fake.add_owner(f"rep{number}@sandbox.invalid", owner_id=owner_id)
    properties = client.crm.properties.core_api
    for object_type, name, kind, field in (
        ("deals", "competitor", "string", "text"),
        ("contacts", DO_NOT_CALL, "bool", "booleancheckbox"),
    ):
        properties.create(
            object_type,
            {"name": name, "label": name, "type": kind, "fieldType": field, "groupName": "syncd"},
            _request_timeout=TIMEOUT,
        )

    company_ids = _create_all(
        client.crm.companies.batch_api,
        [
            {
                "properties": {
                    "name": c.name,
                    "domain": c.domain,
                    "numberofemployees": str(c.employees),
                    "annualrevenue": str(c.annual_revenue),
                    "industry": c.industry,
                    "country": c.country,
                }
            }
            for c in world.companies
        ],
    )
    company_of = {c.id: cid for c, cid in zip(world.companies, company_ids, strict=True)}
    status_of = {lead.person.id: LEAD_STATUS.get(lead.status) for lead in world.leads}
    owner_of = {c.id: OWNERS[i % len(OWNERS)] for i, c in enumerate(world.companies)}
    contact_ids = _create_all(
        client.crm.contacts.batch_api,
        [
            {
                "properties": {
                    "email": p.email,
                    "firstname": p.first_name,
                    "lastname": p.last_name,
                    "jobtitle": p.title,
                    "hubspot_owner_id": owner_of[p.company_id],
                    DO_NOT_CALL: "true" if p.do_not_call else "false",
                    **({"hs_lead_status": status_of[p.id]} if status_of.get(p.id) else {}),
                },
                "associations": [
                    _link(company_of[p.company_id], ASSOCIATION_TYPES[("contacts", "companies")])
                ],
            }
            for p in world.people
        ],
    )
    contact_of = {p.id: cid for p, cid in zip(world.people, contact_ids, strict=True)}
    for person in world.people:
        if person.opted_out_email:
            fake.unsubscribe_all(person.email)
    deal_ids = _create_all(
        client.crm.deals.batch_api,
        [
            {
                "properties": {
                    "dealname": d.name,
                    "amount": str(d.amount),
                    "pipeline": PIPELINE_ID[d.pipeline],
                    "dealstage": LOST_STAGE[d.pipeline],
                    "closedate": format_time(d.closed_at),
                    "closed_lost_reason": d.loss_reason,
                    "competitor": d.competitor or "",
                    "hubspot_owner_id": owner_of[d.company_id],
                },
                "associations": [
                    _link(company_of[d.company_id], ASSOCIATION_TYPES[("deals", "companies")]),
                    *[
                        _link(contact_of[c], ASSOCIATION_TYPES[("deals", "contacts")])
                        for c in d.contact_ids
                    ],
                ],
            }
            for d in world.deals
        ],
    )
    with fake.lock:  # a closed deal was last modified when it closed
        for deal, rid in zip(world.deals, deal_ids, strict=True):
            record = fake.portal.records["deals"][rid]
            fake.portal.set_system(record, **{LAST_MODIFIED["deals"]: format_time(deal.closed_at)})
        for lead in world.leads:
            record = fake.portal.records["contacts"][contact_of[lead.person.id]]
            fake.portal.set_system(
                record, **{LAST_MODIFIED["contacts"]: format_time(lead.updated_at)}
            )
        fake.portal.flush_index()
    nurture = client.crm.lists.lists_api.create(
        {"name": "syncd nurture", "objectTypeId": "0-1", "processingType": "MANUAL"},
        _request_timeout=TIMEOUT,
    )
    return Seeded(str(nurture.list.list_id), len(company_ids), len(contact_ids), len(deal_ids))


def _write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    path.chmod(0o600)


class HubSpotSandbox:
    """`plugin.sandbox`: starts and seeds the fake portal for `syncd sandbox` / `demo`."""

    order = 0

    def __init__(self) -> None:
        self._running: dict[str, HubSpotFake] = {}

    def fake_at(self, base_url: str) -> HubSpotFake:
        """The fake portal behind a started shard (tests and the demo inspect it)."""
        return self._running[base_url]

    def start(
        self, *, port: int, seed: str, workdir: Path, crm_shards: Mapping[str, str]
    ) -> SandboxShard:
        fake = HubSpotFake(port, index_delay_s=INDEX_DELAY_S)
        fake.start()
        try:
            token = fake.add_private_app(f"pat-sandbox-{secrets.token_hex(8)}")
            section: dict[str, Any] = {
                "type": "hubspot",
                "base_url": fake.base_url,
                "lookback_s": 30.0,
                "find_grace_s": 3 * INDEX_DELAY_S,
            }
            # the admin's one-time set-up (`syncd doctor hubspot --fix` in a real portal)
            HubSpot(access_token=token, host=fake.base_url).crm.properties.core_api.create(
                "tasks", SYNCD_KEY_DEFINITION, _request_timeout=TIMEOUT
            )
            if seed == "demo":
                seeded = seed_portal(fake, token, demo_world().for_crm("hubspot"))
                section |= {
                    "lead_statuses": dict(SANDBOX_LEAD_STATUSES),
                    "competitor_property": "competitor",
                    "channel_optout_properties": {"phone": DO_NOT_CALL},
                    "subscription_id": SUBSCRIPTION[0],
                    "nurture_list_id": seeded.nurture_list_id,
                }
            workdir.mkdir(parents=True, exist_ok=True)
            secret = workdir / f"{SHARD}-access-token"
            _write_secret(secret, token)
            section["access_token"] = f"file:{secret}"
        except BaseException:
            fake.stop()
            raise
        self._running[fake.base_url] = fake

        def stop() -> None:
            self._running.pop(fake.base_url, None)
            fake.stop()

        return SandboxShard(
            name=SHARD, base_url=fake.base_url, section=section, stop=stop, fake=fake
        )
