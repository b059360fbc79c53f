"""A Gmail mailbox and a Microsoft 365 mailbox whose vendors hand out the same message ids,
behind one CRM: every reply is decided once, in its own shard, and acknowledged in its own
mailbox."""

from __future__ import annotations

from pathlib import Path

from syncd.config import ShardConfig
from syncd.model import Channel, WriteKind
from syncd.testing.fakes import FakeSink
from syncd_gmail.fake import FakeGmail
from syncd_gmail.testing import GmailTestbed
from syncd_m365.fake import FakeGraph
from syncd_m365.testing import CRM_SHARD, M365Testbed
from tests.wiring import fake_crm, wire

FIRST_ID = 0x18D2A4C000000000  # both vendors count their message ids from here


def test_colliding_ids_in_a_gmail_and_an_m365_mailbox_are_each_decided_once(
    tmp_path: Path,
) -> None:
    gmail_fake = FakeGmail(first_message_id=FIRST_ID).start()
    graph_fake = FakeGraph(first_message_id=FIRST_ID).start()
    try:
        gm = GmailTestbed.start(tmp_path, fake=gmail_fake, mailbox="rep-g@harborlight.example")
        ms = M365Testbed.start(tmp_path, fake=graph_fake, mailbox="rep-m@harborlight.example")
        ms.directory = gm.directory  # one CRM behind both mailboxes
        leaver, later = ms.person(), ms.person()
        not_now = gm.reply(str(later.email), "Not right now. Please reach out again next quarter.")
        opt_out = ms.reply(str(leaver.email), "Please remove me from your mailing list.")
        assert opt_out.id == not_now.id  # the vendors' ids collide

        crm_sink = FakeSink()
        wired = wire(
            tmp_path,
            {
                CRM_SHARD: fake_crm(gm.directory, crm_sink),
                "gmail": (ShardConfig(type="gmail", crm=CRM_SHARD), gm.settings(), gm.open()),
                "m365": (ShardConfig(type="m365", crm=CRM_SHARD), ms.settings(), ms.open()),
            },
        )
        engine, store = wired.engine, wired.store
        try:
            first_g = engine.cycle("gmail")
            first_m = engine.cycle("m365")
            engine.cycle(CRM_SHARD)
            again = [engine.cycle(s) for s in ("gmail", "m365")]
        finally:
            store.close()

        assert (first_g.events, first_g.skipped) == (1, 0)
        assert (first_m.events, first_m.skipped) == (1, 0)
        assert [s.events for s in again] == [0, 0]
        opt_outs = [w for w in crm_sink.writes if w.write is WriteKind.OPT_OUT]
        assert [(w.prospect, w.opt_out_channels) for w in opt_outs] == [
            (leaver.ref, frozenset({Channel.EMAIL}))
        ]
        (draft,) = gm.drafts()
        assert draft.thread_id == not_now.thread_id
        assert not ms.drafts()
        assert "syncd/processed" in gm.labels_of(not_now.id)
        assert "syncd/processed" in ms.categories_of(opt_out.id)
    finally:
        gmail_fake.stop()
        graph_fake.stop()
