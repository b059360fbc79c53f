"""A mailbox shard wired to a CRM shard, through one engine cycle each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.model import Channel, WriteKind
from syncd_gmail.testing import CRM_SHARD, GmailTestbed
from tests.wiring import MailboxWired, wire_mailbox

MAILBOX_SHARD = "gmail_rep"


@pytest.fixture
def wired(bed: GmailTestbed, tmp_path: Path) -> Iterator[MailboxWired]:
    mailbox = (MAILBOX_SHARD, "gmail", bed.settings(), bed.open())
    wired = wire_mailbox(tmp_path, mailbox, CRM_SHARD, bed.directory)
    yield wired
    wired.store.close()


def test_an_opt_out_reply_is_written_to_the_crm(bed: GmailTestbed, wired: MailboxWired) -> None:
    """ "Remove me from your list" by e-mail sets the CRM person's e-mail opt-out, once."""
    person = bed.person()
    reply = bed.reply(str(person.email), "Please remove me from your mailing list.")

    wired.cycle()
    wired.cycle()

    opt_outs = [w for w in wired.crm_sink.writes if w.write is WriteKind.OPT_OUT]
    assert [(w.prospect, w.opt_out_channels) for w in opt_outs] == [
        (person.ref, frozenset({Channel.EMAIL}))
    ]
    assert "syncd/processed" in bed.labels_of(reply.id)
    assert not bed.drafts()  # no thank-you draft to someone who asked to be left alone


def test_a_not_now_reply_gets_a_threaded_draft_in_the_mailbox(
    bed: GmailTestbed, wired: MailboxWired
) -> None:
    """A polite "not now" is acknowledged by one draft in the reply's own thread."""
    person = bed.person()
    reply = bed.reply(str(person.email), "Not right now. Please reach out again next quarter.")

    wired.cycle()
    wired.cycle()

    (draft,) = bed.drafts()
    assert draft.thread_id == reply.thread_id
    assert draft.header("In-Reply-To") == reply.header("Message-ID")
    assert draft.header("Subject") == "Re: Following up"
    assert draft.header("To") == person.email
    assert draft.header("X-Syncd-Key")


def test_reading_then_drafting_a_reply_gets_its_thread_once(
    bed: GmailTestbed, wired: MailboxWired
) -> None:
    """The draft reuses the facts read with the reply: one threads.get for the thread in all
    (the read's check that the rep started it), none for drafting."""
    person = bed.person()
    reply = bed.reply(str(person.email), "Not right now. Please reach out again next quarter.")
    outer, inner = len(bed.fake.requests), len(bed.fake.inner_requests)

    wired.cycle()
    wired.cycle()

    (draft,) = bed.drafts()
    assert draft.thread_id == reply.thread_id
    assert draft.header("References").split() == [
        *reply.header("References").split(),
        reply.header("Message-ID"),
    ]
    calls = [*bed.fake.requests[outer:], *bed.fake.inner_requests[inner:]]
    threads = [c for c in calls if c.path.endswith(f"/threads/{reply.thread_id}")]
    assert len(threads) == 1
    assert [c.method for c in calls if c.path.endswith("/drafts")] == ["POST"]
