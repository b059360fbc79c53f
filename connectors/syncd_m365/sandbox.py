"""The Microsoft 365 part of `syncd sandbox` / `syncd demo`: a seeded local Graph mailbox.

A second rep (the demo world's Robin Vale, on Outlook) wrote to people of the HubSpot shard
(or of the Salesforce one when HubSpot is absent) and they answered, as in the Gmail part.
The shard signs in with a client secret against the fake's token endpoint; the secret file
is written 0600 under the sandbox's work directory.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog

from syncd.connectors import SandboxShard
from syncd.sandbox import write_secret
from syncd.testing.demo_data import DemoWorld, demo_world
from syncd_m365.fake import FakeGraph
from syncd_m365.settings import M365Settings

log = structlog.get_logger(__name__)

REP_NAME = "Robin Vale"
REP_ADDRESS = "robin@harborlight.example"
TENANT = "harborlight.example"
CATEGORY = M365Settings.model_fields["category"].default


def seed_replies(fake: FakeGraph, mailbox: str, world: DemoWorld) -> int:
    """The rep's outreach and each person's answer in one conversation; the replies seeded."""
    for n, reply in enumerate(world.replies, start=1):
        person = world.person(reply.person_id)
        conversation = f"AAQkDEMO{n:06d}"
        fake.seed_message(
            mailbox,
            folder="sentitems",
            sender=mailbox,
            sender_name=REP_NAME,
            to=str(person.email),
            subject="Following up",
            text="Would you be interested in a short call?",
            conversation_id=conversation,
            received=reply.sent_at - timedelta(days=2),
        )
        fake.seed_message(
            mailbox,
            folder="inbox",
            sender=str(person.email),
            sender_name=f"{person.first_name} {person.last_name}",
            to=mailbox,
            subject=reply.subject,
            text=reply.body,
            conversation_id=conversation,
            received=reply.sent_at,
            headers=[{"name": k, "value": v} for k, v in reply.headers],
        )
    return len(world.replies)


class M365Sandbox:
    order = 10  # after the CRMs: the mailbox is wired to one

    def start(
        self, *, port: int, seed: str, workdir: Path, crm_shards: Mapping[str, str]
    ) -> SandboxShard:
        crm_type = next((t for t in ("hubspot", "salesforce") if t in crm_shards), None)
        fake = FakeGraph(port=port).start()
        box = fake.mailbox(REP_ADDRESS)
        with box.lock:  # set up as `syncd doctor m365 --fix` would
            box.categories.append({"id": "c1", "displayName": CATEGORY, "color": "preset7"})
        seeded = 0
        if seed == "demo" and crm_type is not None:
            seeded = seed_replies(fake, REP_ADDRESS, demo_world().for_crm(crm_type))
        secret = secrets.token_urlsafe(24)
        client_id = fake.register_app({REP_ADDRESS}, secret=secret)
        secret_file = write_secret(workdir / "m365-client-secret", secret)
        section: dict[str, Any] = {
            "type": "m365",
            "mailbox": REP_ADDRESS,
            "tenant_id": TENANT,
            "client_id": client_id,
            "client_secret": f"file:{secret_file}",
            "base_url": fake.base_url + "/",
        }
        if crm_type is None:
            log.warning("sandbox.m365_without_crm")
            section["enabled"] = False
        else:
            section["crm"] = crm_shards[crm_type]
        log.info("sandbox.m365_started", port=fake.port, replies=seeded, crm=crm_type)
        return SandboxShard("m365", fake.base_url, section, fake.stop, fake=fake)
