"""Replies through the Gmail connector and the engine: a quoted unsubscribe footer never
suppresses anyone, and a possible opt-out goes to a rep.

Mail clients quote the message they answer, and a sales pitch ends with an unsubscribe
footer: the words "unsubscribe" and "remove me" then sit in every reply to it. The reply goes
through the Gmail connector (extraction, classification) and the engine like any other.
"""

from __future__ import annotations

import pytest

from syncd.model import WriteKind
from syncd_gmail.testing import GmailTestbed
from tests.integration.gmail.test_gmail_engine import wired  # noqa: F401 (the fixture)
from tests.wiring import MailboxWired

FOOTERS = {
    "en": (
        "Thanks, but not right now. Maybe check back in the spring.",
        "On Mon, 2 Nov 2026 at 10:04, Dana Rep <dana@vendor.example> wrote:",
        "You received this e-mail because you signed up at our booth.\n"
        "To unsubscribe, click here: https://vendor.example/unsubscribe?u=1\n"
        "Remove me from this list | Manage preferences",
    ),
    "de": (
        "Danke, im Moment passt es nicht. Gerne im Frühjahr wieder.",
        "Am 02.11.2026 um 10:04 schrieb Dana Rep <dana@vendor.example>:",
        "Sie erhalten diese E-Mail, weil Sie sich angemeldet haben.\n"
        "Abmelden: https://vendor.example/abmelden | Keine E-Mails mehr erhalten",
    ),
    "fr": (
        "Merci, mais pas pour le moment. Recontactez-moi au printemps.",
        "Le lun. 2 nov. 2026 à 10:04, Dana Rep <dana@vendor.example> a écrit :",
        "Pour vous désinscrire, cliquez ici : https://vendor.example/desinscription\n"
        "Se désabonner de cette liste",
    ),
}


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines())


@pytest.mark.parametrize("language", sorted(FOOTERS))
def test_a_quoted_unsubscribe_footer_never_suppresses_anyone(
    bed: GmailTestbed,
    wired: MailboxWired,  # noqa: F811 (the fixture)
    language: str,
) -> None:
    """A polite "not now" quoting a pitch that ends with an unsubscribe footer writes no
    opt-out and suppresses no channel, in plain text and in an HTML-only reply alike."""
    answer, attribution, footer = FOOTERS[language]
    pitch = "Hi Pat,\nwould a short call about our platform make sense?\nDana\n\n" + footer
    plain = bed.person(f"plain.{language}@prospect.example")
    html = bed.person(f"html.{language}@prospect.example")
    bed.reply(str(plain.email), f"{answer}\n\n{attribution}\n{_quoted(pitch)}\n")
    bed.reply(
        str(html.email),
        "",
        html=(
            f"<div>{answer}</div><div class='gmail_quote'><div>{attribution}</div>"
            f"<blockquote>{pitch.replace(chr(10), '<br>')}</blockquote></div>"
        ),
    )

    wired.cycle()
    wired.cycle()

    assert [w for w in wired.crm_sink.writes if w.write is WriteKind.OPT_OUT] == []
    assert wired.crm_sink.suppressed == []
    keys = [str(p.ref.key) for p in (plain, html)]
    assert wired.store.suppressed(keys) == {}
    for person in (plain, html):
        drafts = [d for d in bed.drafts() if d.header("To") == person.email]
        tasks = [w for w in wired.crm_sink.writes if w.prospect == person.ref]
        assert drafts or tasks, "the reply was read as something: acknowledged or reviewed"


def test_a_possible_opt_out_goes_to_the_rep_and_holds_e_mail(
    bed: GmailTestbed,
    wired: MailboxWired,  # noqa: F811 (the fixture)
) -> None:
    """A question where they got "my personal data" is no decisive opt-out but trips the net:
    the rep gets a task quoting it, no flag is written on a guess, no thank-you draft goes
    into the thread; once the rep completes the task, the hold is released."""
    person = bed.person("asks.why@prospect.example")
    bed.reply(str(person.email), "Where did you get my personal data from? Who gave it to you?")

    wired.cycle()
    wired.cycle()

    (task,) = [w for w in wired.crm_sink.writes if w.prospect == person.ref]
    assert task.write is WriteKind.TASK and task.subject.startswith("Read this reply")
    assert "Where did you get my personal data from?" in task.body
    assert "e-mail included" in task.body
    assert wired.crm_sink.suppressed == [] and not bed.drafts()
    assert wired.store.held_for_review() == [person.ref.key]

    wired.crm_sink.complete(task.key)
    wired.cycle()
    assert wired.store.held_for_review() == []
