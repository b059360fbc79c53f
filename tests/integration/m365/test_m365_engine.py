"""A Microsoft 365 mailbox wired to a CRM shard, through the engine: the scenarios the Gmail
connector is held to (opt-out written back, "not now" call-back, out-of-office, review)."""

from __future__ import annotations

from datetime import date

from syncd.model import Channel, WriteKind
from syncd_m365.testing import M365Testbed
from tests.wiring import MailboxWired

CATEGORY = "syncd/processed"


def test_an_opt_out_reply_is_written_to_the_crm_and_suppressed(
    bed: M365Testbed, wired: MailboxWired
) -> None:
    """ "Remove me from your list" sets the CRM person's e-mail opt-out once, enters syncd's
    suppression list, and gets no thank-you draft."""
    person = bed.person()
    reply = bed.reply(str(person.email), "Please remove me from your mailing list.")

    wired.cycle()
    wired.cycle()

    opt_outs = [w for w in wired.crm_sink.writes if w.write is WriteKind.OPT_OUT]
    assert [(w.prospect, w.opt_out_channels) for w in opt_outs] == [
        (person.ref, frozenset({Channel.EMAIL}))
    ]
    assert Channel.EMAIL in wired.store.suppressed([person.ref.key])[person.ref.key]
    assert CATEGORY in bed.categories_of(reply.id)
    assert not bed.drafts()


def test_a_not_now_reply_gets_a_call_back_and_a_threaded_draft(
    bed: M365Testbed, wired: MailboxWired
) -> None:
    """A polite "not now, next quarter" plans the call-back after the stated time and leaves
    one draft in the reply's conversation, made with createReply on the message read (no
    second look at the conversation) and carrying its key."""
    person = bed.person()
    reply = bed.reply(str(person.email), "Not right now. Please reach out again next quarter.")
    inner = len(bed.fake.inner_requests)

    wired.cycle()
    wired.cycle()

    drafting = [(m, p) for m, p, _ in bed.fake.inner_requests[inner:] if "createReply" in p]
    url = f"/graph/v1.0/users/{bed.mailbox}/messages/{reply.id}/createReply"
    assert drafting == [("POST", url)]
    assert not [p for _, p, _ in bed.fake.inner_requests[inner:] if "/mailFolders/inbox/" in p]

    (draft,) = bed.drafts()
    assert draft.conversation_id == reply.conversation_id
    assert draft.to == person.email
    assert draft.subject == "RE: Following up"
    assert draft.header("x-syncd-key")
    plan = wired.store.history([person.ref.key])[person.ref.key].plan
    assert plan is not None and plan.callback_on is not None
    assert plan.callback_on > date.today()
    assert CATEGORY in bed.categories_of(reply.id)


def test_an_out_of_office_reply_is_neither_answered_nor_a_rejection(
    bed: M365Testbed, wired: MailboxWired
) -> None:
    """An automatic reply gets no draft, no CRM write and no plan, but is marked handled."""
    person = bed.person()
    reply = bed.reply(
        str(person.email),
        "I am out of the office until 14 December 2026 with limited access to e-mail.",
        subject="Automatic reply: Following up",
    )

    wired.cycle()
    wired.cycle()

    assert not bed.drafts()
    assert [w for w in wired.crm_sink.writes if w.prospect == person.ref] == []
    assert wired.store.history([person.ref.key])[person.ref.key].plan is None
    assert CATEGORY in bed.categories_of(reply.id)


def test_a_possible_opt_out_goes_to_the_rep_and_holds_e_mail(
    bed: M365Testbed, wired: MailboxWired
) -> None:
    """A question where they got "my personal data" is reviewed by the rep: a task quoting
    it, no flag written on a guess, no draft; completing the task releases the hold."""
    person = bed.person("asks.why@prospect.example")
    bed.reply(str(person.email), "Where did you get my personal data from? Who gave it to you?")
    wired.cycle()
    wired.cycle()

    (task,) = [w for w in wired.crm_sink.writes if w.prospect == person.ref]
    assert task.write is WriteKind.TASK and task.subject.startswith("Read this reply")
    assert "Where did you get my personal data from?" in task.body
    assert wired.crm_sink.suppressed == [] and not bed.drafts()
    assert wired.store.held_for_review() == [person.ref.key]

    wired.crm_sink.complete(task.key)
    wired.cycle()
    assert wired.store.held_for_review() == []


def test_an_html_only_reply_from_outlook_is_read(bed: M365Testbed, wired: MailboxWired) -> None:
    """Outlook often sends HTML only: the reply is still classified and acknowledged."""
    person = bed.person()
    bed.reply(
        str(person.email),
        "",
        html="<div>Please remove me from your mailing list.</div><hr><div>From: Rep</div>",
    )
    wired.cycle()
    opt_outs = [w for w in wired.crm_sink.writes if w.write is WriteKind.OPT_OUT]
    assert [w.prospect for w in opt_outs] == [person.ref]
