"""Intent classification across English, German, French, Spanish, Dutch, Italian, Portuguese."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from syncd.model import ALL_CHANNELS, Channel, Intent
from syncd.replies import Classification, Classifier, RepliesConfig, classify, to_reply_info
from syncd.replies.cli import channel_names
from tests.unit.replies import cases
from tests.unit.replies.conftest import reply


def fields(c: Classification) -> dict[str, Any]:
    return {
        "channels": channel_names(c),
        "followup_after": c.followup_after.isoformat() if c.followup_after else None,
        "return_date": c.return_date.isoformat() if c.return_date else None,
        "competitor": c.competitor,
        "referral_email": c.referral_email,
        "hostile": c.hostile,
        "gatekeeper": c.gatekeeper,
    }


def check(language: str, text: str, intent: Intent, expected: dict[str, Any]) -> None:
    result = classify(reply(text, language=language))
    assert result.intent is intent, result.evidence
    got = fields(result)
    assert {k: got[k] for k in expected} == expected, result.evidence
    if intent is not Intent.OPT_OUT:
        assert result.channels == frozenset()


def ids(rows: list[cases.Case]) -> list[str]:
    return [f"{lang}:{text[:40]}" for lang, text, _ in rows]


@pytest.mark.parametrize(("language", "text", "expected"), cases.OPT_OUT, ids=ids(cases.OPT_OUT))
def test_opt_out_requests_are_opt_outs_on_their_channels(
    language: str, text: str, expected: dict[str, Any]
) -> None:
    """Every way of asking to stop, in seven languages, is an opt-out on the channel named."""
    check(language, text, Intent.OPT_OUT, expected)


@pytest.mark.parametrize(
    ("language", "text", "intent", "expected"),
    cases.TRAPS,
    ids=[f"{lang}:{text[:40]}" for lang, text, _, _ in cases.TRAPS],
)
def test_cue_words_that_are_not_meant_do_not_count(
    language: str, text: str, intent: str, expected: dict[str, Any]
) -> None:
    """ "I'm not asking you to remove me", "I'll let you know": such words are not literal."""
    check(language, text, Intent(intent), expected)


@pytest.mark.parametrize(
    ("language", "text", "expected"), cases.NOT_INTERESTED, ids=ids(cases.NOT_INTERESTED)
)
def test_plain_and_hostile_refusals_are_not_interested(
    language: str, text: str, expected: dict[str, Any]
) -> None:
    """A no (hostile or polite) is not_interested, never an opt-out by itself."""
    check(language, text, Intent.NOT_INTERESTED, expected)


@pytest.mark.parametrize(("language", "text", "expected"), cases.NOT_NOW, ids=ids(cases.NOT_NOW))
def test_deferrals_are_not_now_with_their_date(
    language: str, text: str, expected: dict[str, Any]
) -> None:
    """ "Not now" and stated timing give not_now and the date the prospect named."""
    check(language, text, Intent.NOT_NOW, expected)


@pytest.mark.parametrize(
    ("language", "text", "expected"), cases.COMPETITOR, ids=ids(cases.COMPETITOR)
)
def test_competitor_choices_name_the_competitor(
    language: str, text: str, expected: dict[str, Any]
) -> None:
    """Another vendor chosen or in use is competitor, with its name when stated."""
    check(language, text, Intent.COMPETITOR, expected)


@pytest.mark.parametrize(
    ("language", "text", "expected"), cases.INTERESTED, ids=ids(cases.INTERESTED)
)
def test_positive_replies_are_interested(
    language: str, text: str, expected: dict[str, Any]
) -> None:
    """Meeting, demo, pricing and information requests are interested."""
    check(language, text, Intent.INTERESTED, expected)


@pytest.mark.parametrize(("language", "text", "expected"), cases.REFERRAL, ids=ids(cases.REFERRAL))
def test_referrals_carry_the_referred_address(
    language: str, text: str, expected: dict[str, Any]
) -> None:
    """Pointing to someone else is a referral, with the address when given."""
    check(language, text, Intent.REFERRAL, expected)


@pytest.mark.parametrize(("language", "text", "expected"), cases.OTHER, ids=ids(cases.OTHER))
def test_questions_and_acknowledgements_are_other(
    language: str, text: str, expected: dict[str, Any]
) -> None:
    """Replies without a recognisable intent are other."""
    check(language, text, Intent.OTHER, expected)


def test_the_quoted_pitch_alone_says_nothing() -> None:
    """A reply whose only "interested" is in the quoted pitch is not interested."""
    assert classify(reply("Thanks.")).intent is Intent.OTHER
    assert classify(reply("")).intent is Intent.OTHER


def test_not_interested_right_now_is_not_interest() -> None:
    """A negated "interested" never counts as interest."""
    for text in ("Not interested right now.", "I'm not really interested.", "Not that interested."):
        assert classify(reply(text)).intent is not Intent.INTERESTED


def test_opt_out_wins_over_every_other_intent() -> None:
    """A reply that is also interested or names a competitor is still an opt-out."""
    for text in (
        "We went with Acme. Remove me from your list.",
        "Interesting, but please don't call me, email only.",
        "No, never. And stop emailing me.",
    ):
        assert classify(reply(text)).intent is Intent.OPT_OUT


def test_hostile_no_is_flagged_but_not_an_opt_out() -> None:
    """ "I will die before we buy from you" keeps the prospect: not_interested, hostile."""
    result = classify(reply("I will die before we buy from you."))
    assert (result.intent, result.hostile, result.channels) == (
        Intent.NOT_INTERESTED,
        True,
        frozenset(),
    )


def test_erasure_and_objections_cover_every_channel() -> None:
    """GDPR erasure or objection suppresses all channels, including LinkedIn and post."""
    result = classify(reply("I object to the processing of my personal data under GDPR."))
    assert result.channels == ALL_CHANNELS


def test_phone_opt_out_leaves_email_open() -> None:
    """ "Don't ever call me again" suppresses the phone only."""
    assert classify(reply("Don't ever call me again.")).channels == frozenset({Channel.PHONE})


def test_opt_out_in_the_subject_is_found() -> None:
    """A prospect who writes "unsubscribe" in the subject line and nothing else is heard."""
    result = classify(reply("", subject="Unsubscribe", quoted=False))
    assert result.intent is Intent.OPT_OUT
    assert result.evidence == ("subject: Unsubscribe",)


def test_evidence_quotes_the_deciding_phrases_as_written() -> None:
    """Evidence is the prospect's own wording, accents and case kept."""
    result = classify(reply("Désabonnez-moi s'il vous plaît.", language="fr"))
    assert result.evidence == ("Désabonnez-moi",)
    result = classify(reply("Bad timing. Reach back out in February."))
    assert "Bad timing" in result.evidence
    assert "in February" in result.evidence


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Not interested, thank you."),
        ("de", "Vielen Dank, aber wir haben kein Interesse."),
        ("fr", "Merci, mais ce n'est pas pour nous."),
        ("es", "Gracias, pero no nos interesa."),
    ],
)
def test_language_is_detected(language: str, text: str) -> None:
    """The reply's language is reported for the four supported languages."""
    assert classify(reply(text, language=language)).language == language


@pytest.mark.parametrize(
    ("language", "subject", "headers", "text", "back"),
    [
        (
            "en",
            "Automatic reply: Stock counts",
            {"Auto-Submitted": "auto-replied"},
            "I'm out of the office until Monday, October 19 with limited access to email.",
            date(2026, 10, 19),
        ),
        (
            "de",
            "Abwesenheitsnotiz: Stock counts",
            {"X-Autoreply": "yes"},
            "Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich 23.10. nicht im Büro.",
            date(2026, 10, 23),
        ),
        (
            "fr",
            "Réponse automatique : Stock counts",
            {},
            "Je suis absente jusqu'au 20 octobre inclus. À mon retour, je vous répondrai.",
            date(2026, 10, 20),
        ),
        (
            "es",
            "Respuesta automática: Stock counts",
            {"Precedence": "auto_reply"},
            "Estoy fuera de la oficina hasta el 19 de octubre.",
            date(2026, 10, 19),
        ),
        (
            "en",
            "Auto-reply",
            {"Auto-Submitted": "auto-replied"},
            "Thanks for your email. I'm away at a conference this week.",
            None,
        ),
    ],
)
def test_absence_notices_are_out_of_office_with_return_date(
    language: str, subject: str, headers: dict[str, str], text: str, back: date | None
) -> None:
    """Auto-replies announcing an absence are out_of_office, with the return date if stated."""
    result = classify(reply(text, subject=subject, headers=headers, quoted=False))
    assert (result.intent, result.return_date, result.auto_reply) == (
        Intent.OUT_OF_OFFICE,
        back,
        True,
    )


def test_other_auto_replies_are_out_of_office_not_a_person_s_intent() -> None:
    """A ticket confirmation saying "interested in helping" is machine-sent: out-of-office."""
    result = classify(
        reply(
            "We have received your request and are interested in helping. Unsubscribe here.",
            subject="Ticket received",
            headers={"Auto-Submitted": "auto-generated"},
            quoted=False,
        )
    )
    assert (result.intent, result.auto_reply) == (Intent.OUT_OF_OFFICE, True)


def test_auto_reply_from_someone_who_left_is_a_referral() -> None:
    """ "No longer with the company, contact X" from an autoresponder is a referral."""
    result = classify(
        reply(
            "Pat is no longer with the company. Please contact jordan@prospect.example.",
            headers={"Auto-Submitted": "auto-replied"},
            quoted=False,
        )
    )
    assert (result.intent, result.referral_email) == (
        Intent.REFERRAL,
        "jordan@prospect.example",
    )


def test_html_only_reply_is_classified() -> None:
    """An HTML-only reply is read from its HTML part."""
    html = (
        '<div dir="ltr">Please remove me from your list.</div><div class="gmail_quote">'
        '<div class="gmail_attr">On Wed, Oct 7, 2026 at 4:40 PM Sam &lt;sam@x.example&gt; wrote:'
        '</div><blockquote class="gmail_quote">Are you interested?</blockquote></div>'
    )
    message = reply("", quoted=False)
    message = type(message)(message.id, message.date, message.sender, message.subject, {}, "", html)
    assert classify(message).intent is Intent.OPT_OUT


def test_front_desk_mailbox_is_a_gatekeeper() -> None:
    """A reply from a shared reception mailbox is flagged as a gatekeeper."""
    result = classify(
        reply(
            "Alex retired in August. Please contact the front office instead.",
            sender="Office <office@prospect.example>",
        )
    )
    assert (result.intent, result.gatekeeper) == (Intent.REFERRAL, True)


def test_sender_address_is_not_a_referral() -> None:
    """The sender's own address in the text (a signature) is not a referred address."""
    result = classify(reply("Reach me at alex@prospect.example, yes let's talk."))
    assert result.referral_email is None


def test_configured_phrases_extend_the_tables() -> None:
    """An admin's phrase turns an otherwise unknown reply into the configured intent."""
    text = "Please scrub me."
    assert classify(reply(text)).intent is Intent.OTHER
    config = RepliesConfig(phrases={"en": {Intent.OPT_OUT: ("scrub me",)}})
    result = classify(reply(text), config)
    assert (result.intent, result.evidence) == (Intent.OPT_OUT, ("scrub me",))


def test_opt_outs_are_heard_in_every_language_even_when_disabled() -> None:
    """With only English enabled, German refusals are unknown but German opt-outs still count."""
    english_only = Classifier(RepliesConfig(languages=("en",)))
    assert english_only.classify(reply("Kein Interesse.", language="de")).intent is Intent.OTHER
    opt_out = english_only.classify(reply("Bitte tragen Sie mich aus.", language="de"))
    assert opt_out.intent is Intent.OPT_OUT


def test_timing_near_enough_keeps_interest() -> None:
    """ "Let's talk next week" stays interested; "let's talk in March" is a deferral."""
    assert classify(reply("Let's talk next week.")).intent is Intent.INTERESTED
    later = classify(reply("Let's talk in March."))
    assert (later.intent, later.followup_after) == (Intent.NOT_NOW, date(2027, 3, 1))
    strict = RepliesConfig(deferral_min_days=0)
    assert classify(reply("Let's talk next week."), strict).intent is Intent.NOT_NOW


def test_to_reply_info_carries_every_field() -> None:
    """The engine's ReplyInfo gets the classification and the threading data."""
    result = classify(reply("Don't call me again."))
    info = to_reply_info(
        result, message_id="<m1@x>", thread_id="t1", subject="Re: hi", references="<p@x>"
    )
    assert info.intent is Intent.OPT_OUT
    assert info.opt_out_channels == frozenset({Channel.PHONE})
    assert (info.message_id, info.thread_id, info.subject, info.references) == (
        "<m1@x>",
        "t1",
        "Re: hi",
        "<p@x>",
    )
    assert info.evidence == result.evidence
    assert (info.auto_reply, info.hostile, info.gatekeeper) == (False, False, False)
