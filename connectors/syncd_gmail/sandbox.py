"""The Gmail part of `syncd sandbox` / `syncd demo`: a seeded local mailbox.

The rep (the demo world's Sam Ortiz) wrote to people of the CRM the mailbox is wired to, and
they answered: every intent, several languages, auto-replies. The shard authenticates as a
service account with domain-wide delegation against the fake's token endpoint; its key file
is written 0600 under the sandbox's work directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog

from syncd.connectors import SandboxShard
from syncd.sandbox import write_secret
from syncd.testing.demo_data import DemoWorld, demo_world
from syncd_gmail.fake import FakeGmail
from syncd_gmail.settings import SCOPES

log = structlog.get_logger(__name__)

REP_NAME = "Sam Ortiz"
REP_ADDRESS = "sam@harborlight.example"
OUTREACH_SUBJECT = "Following up"
OUTREACH_BODY = "Would you be interested in a short call?"


def seed_replies(fake: FakeGmail, mailbox: str, world: DemoWorld) -> int:
    """The rep's outreach and each person's answer, threaded; returns the replies seeded."""
    for reply in world.replies:
        person = world.person(reply.person_id)
        who = f"{person.first_name} {person.last_name} <{person.email}>"
        outreach = fake.seed_message(
            mailbox,
            sender=f"{REP_NAME} <{mailbox}>",
            to=who,
            subject=OUTREACH_SUBJECT,
            body=OUTREACH_BODY,
            date=reply.sent_at - timedelta(days=2),
            labels=["SENT"],
        )
        parent = outreach.header("Message-ID")
        fake.seed_message(
            mailbox,
            sender=who,
            to=f"{REP_NAME} <{mailbox}>",
            subject=reply.subject,
            body=reply.body,
            date=reply.sent_at,
            labels=["INBOX", "UNREAD"],
            in_reply_to=parent,
            references=parent,
            headers=reply.headers,
        )
    return len(world.replies)


class GmailSandbox:
    order = 10  # after the CRMs: the mailbox is wired to one

    def start(
        self, *, port: int, seed: str, workdir: Path, crm_shards: Mapping[str, str]
    ) -> SandboxShard:
        crm_type = next((t for t in ("salesforce", "hubspot") if t in crm_shards), None)
        fake = FakeGmail(port=port).start()
        mailbox = REP_ADDRESS
        fake.mailbox(mailbox)
        seeded = 0
        if seed == "demo" and crm_type is not None:
            seeded = seed_replies(fake, mailbox, demo_world().for_crm(crm_type))
        key = fake.oauth.create_service_account({mailbox}, set(SCOPES))
        key_file = write_secret(workdir / "gmail-service-account.json", json.dumps(key))
        section: dict[str, Any] = {
            "type": "gmail",
            "mailbox": mailbox,
            "auth": "service_account",
            "service_account_key": f"file:{key_file}",
            "base_url": fake.base_url + "/",
        }
        if crm_type is None:
            # Nothing to match senders against: keep the mailbox up but the shard off.
            log.warning("sandbox.gmail_without_crm")
            section["enabled"] = False
        else:
            section["crm"] = crm_shards[crm_type]
        log.info("sandbox.gmail_started", port=fake.port, replies=seeded, crm=crm_type)
        return SandboxShard("gmail", fake.base_url, section, fake.stop, fake=fake)
