"""Two mailboxes whose messages carry the same ids: each reply is decided once, in its shard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.config import ShardConfig
from syncd.engine import Engine
from syncd.model import Channel, WriteKind
from syncd.store import Store
from syncd.testing.fakes import FakeSink
from syncd_gmail.fake import FakeGmail
from syncd_gmail.testing import CRM_SHARD, GmailTestbed
from tests.wiring import fake_crm, wire

FIRST_ID = 0x18D2A4C000000000  # both mailboxes count their message ids from here


@pytest.fixture
def beds(tmp_path: Path) -> Iterator[tuple[GmailTestbed, GmailTestbed]]:
    fake = FakeGmail(first_message_id=FIRST_ID).start()
    a = GmailTestbed.start(tmp_path, fake=fake, mailbox="rep-a@harborlight.example")
    b = GmailTestbed.start(tmp_path, fake=fake, mailbox="rep-b@harborlight.example")
    b.directory = a.directory  # one CRM behind both mailboxes
    try:
        yield a, b
    finally:
        fake.stop()


REP_A, REP_B = "005A00000000001", "005B00000000001"  # the mailboxes' reps in the CRM


def _engine(
    a: GmailTestbed, b: GmailTestbed, tmp_path: Path, crm_sink: FakeSink
) -> tuple[Engine, Store]:
    wired = wire(
        tmp_path,
        {
            CRM_SHARD: fake_crm(a.directory, crm_sink),
            "gmail_a": (
                ShardConfig(type="gmail", crm=CRM_SHARD, owner=REP_A),
                a.settings(),
                a.open(),
            ),
            "gmail_b": (
                ShardConfig(type="gmail", crm=CRM_SHARD, owner=REP_B),
                b.settings(),
                b.open(),
            ),
        },
    )
    return wired.engine, wired.store


def test_colliding_message_ids_in_two_mailboxes_are_both_decided(
    beds: tuple[GmailTestbed, GmailTestbed], tmp_path: Path
) -> None:
    """An opt-out in one mailbox is honoured although the other mailbox's "not now" reply,
    decided first, has the very same message id; neither is skipped, each is labelled."""
    a, b = beds
    leaver, later = a.person(), a.person()
    not_now = b.reply(str(later.email), "Not right now. Please reach out again next quarter.")
    opt_out = a.reply(str(leaver.email), "Please remove me from your mailing list.")
    assert opt_out.id == not_now.id  # the vendor's ids collide across mailboxes

    crm_sink = FakeSink()
    engine, store = _engine(a, b, tmp_path, crm_sink)
    try:
        first_b = engine.cycle("gmail_b")
        first_a = engine.cycle("gmail_a")
        engine.cycle(CRM_SHARD)
        again = [engine.cycle(s) for s in ("gmail_a", "gmail_b")]
    finally:
        store.close()

    assert (first_b.events, first_b.skipped) == (1, 0)
    assert (first_a.events, first_a.skipped) == (1, 0)
    assert [s.events for s in again] == [0, 0]
    opt_outs = [w for w in crm_sink.writes if w.write is WriteKind.OPT_OUT]
    assert [(w.prospect, w.opt_out_channels) for w in opt_outs] == [
        (leaver.ref, frozenset({Channel.EMAIL}))
    ]
    (draft,) = b.drafts()
    assert draft.thread_id == not_now.thread_id
    assert not a.drafts()
    assert "syncd/processed" in a.labels_of(opt_out.id)
    assert "syncd/processed" in b.labels_of(not_now.id)


def test_a_reply_task_goes_to_the_rep_of_the_mailbox_it_came_to(
    beds: tuple[GmailTestbed, GmailTestbed], tmp_path: Path
) -> None:
    """An interested reply to rep B's mailbox is B's to answer, although the contact is
    owned by someone else in the CRM."""
    a, b = beds
    person = a.person()
    assert person.owner is not None and person.owner.id not in (REP_A, REP_B)
    b.reply(str(person.email), "Yes, we are interested. Can you call me on Tuesday?")
    crm_sink = FakeSink()
    engine, store = _engine(a, b, tmp_path, crm_sink)
    try:
        engine.cycle("gmail_b")
        engine.cycle(CRM_SHARD)
    finally:
        store.close()
    (urgent,) = [w for w in crm_sink.writes if w.write is WriteKind.TASK]
    assert urgent.owner_id == REP_B
