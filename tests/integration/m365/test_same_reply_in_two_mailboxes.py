"""One reply that reached two reps' mailboxes (the prospect wrote to one and CC'd the other)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from syncd.config import ShardConfig
from syncd.testing.fakes import FakeSink
from syncd_gmail.fake import FakeGmail
from syncd_gmail.testing import CRM_SHARD, GmailTestbed
from syncd_m365.fake import FakeGraph
from syncd_m365.testing import M365Testbed
from tests.wiring import fake_crm, wire


def test_a_reply_cc_d_to_a_second_mailbox_is_decided_and_thanked_once(tmp_path: Path) -> None:
    """The copy in the second mailbox, read a minute later, is recognised by its Message-ID:
    the prospect gets one thank-you draft, keeps one plan, and the copy is marked handled."""
    gmail_fake, graph_fake = FakeGmail().start(), FakeGraph().start()
    try:
        gm = GmailTestbed.start(tmp_path, fake=gmail_fake, mailbox="rep-g@harborlight.example")
        ms = M365Testbed.start(tmp_path, fake=graph_fake, mailbox="rep-m@harborlight.example")
        ms.directory = gm.directory  # one CRM behind both mailboxes
        person = gm.person()
        body = "Thanks, but not right now. Please reach out again next quarter."
        first = gm.reply(str(person.email), body, minutes_ago=30)
        copy = ms.reply(
            str(person.email), body, minutes_ago=29, internet_message_id=first.header("Message-ID")
        )
        wired = wire(
            tmp_path,
            {
                CRM_SHARD: fake_crm(gm.directory, FakeSink()),
                "gmail": (ShardConfig(type="gmail", crm=CRM_SHARD), gm.settings(), gm.open()),
                "m365": (ShardConfig(type="m365", crm=CRM_SHARD), ms.settings(), ms.open()),
            },
        )
        try:
            _, from_copy, _ = wired.cycle("gmail", "m365", CRM_SHARD)
            again = wired.cycle("gmail", "m365", CRM_SHARD)
        finally:
            wired.close()
        assert from_copy.events == 1 and dict(from_copy.decisions) == {"ignored": 1}
        assert [s.events for s in again] == [0, 0, 0]
        assert len(gm.drafts()) + len(ms.drafts()) == 1
        assert "syncd/processed" in ms.categories_of(copy.id)
        with sqlite3.connect(tmp_path / "state.db") as db:
            plans = db.execute("SELECT status FROM plans").fetchall()
        assert plans == [("live",)]
    finally:
        gmail_fake.stop()
        graph_fake.stop()
