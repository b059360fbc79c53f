"""Confidence, the review route's reasons, the opt-out safety net and weighed evidence."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from syncd.model import Intent
from syncd.replies import Classifier, RepliesConfig, classify, to_reply_info
from syncd.replies.cli import output_record
from tests.unit.replies import cases
from tests.unit.replies.conftest import SENT, reply

FOOTER_PITCH = (
    "On Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz <sam@harborlight.example> wrote:\n"
    "> Are you interested in a short call?\n"
    "> If you don't want to hear from us, reply unsubscribe or opt out of all marketing\n"
    "> emails here. We process personal data under the GDPR; you may object at any time.\n"
)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    cases.REFUSALS_WITH_TIME_WORDS,
    ids=[f"{lang}:{text[:40]}" for lang, text, _ in cases.REFUSALS_WITH_TIME_WORDS],
)
def test_a_refusal_with_a_vague_time_word_stays_a_refusal(
    language: str, text: str, expected: dict[str, Any]
) -> None:
    """ "Not at this time", "keine Zeit", "pas de budget" next to a clear no: not_interested."""
    assert classify(reply(text, language=language)).intent is Intent.NOT_INTERESTED


def test_a_stated_date_still_sets_the_follow_up_of_a_refusal() -> None:
    """A refusal that names a date keeps the date: the policy may follow up after it."""
    result = classify(reply("We're not interested. Our contract runs until 1 March 2027."))
    assert result.intent is Intent.NOT_INTERESTED
    assert result.followup_after == date(2027, 3, 1)


@pytest.mark.parametrize("text", ["Yes.", "Oui.", "Yes, I got it."])
def test_a_bare_yes_is_not_confident_interest(text: str) -> None:
    """ "Yes" alone answers something; it is not read as interest without a person."""
    result = classify(reply(text))
    assert result.intent is not Intent.INTERESTED or result.review


def test_yes_then_a_refusal_is_a_refusal() -> None:
    """A sentence-initial "yes" does not outweigh the refusal that follows."""
    result = classify(reply("Yes, I got your three emails. No, we are not interested."))
    assert result.intent is Intent.NOT_INTERESTED


@pytest.mark.parametrize(
    "text",
    [
        "Under Article 21 GDPR I object to the processing of my personal data for direct "
        "marketing. Please confirm within 28 days.",
        "Ich widerspreche der Verarbeitung meiner Daten gemäß DSGVO. Bitte bestätigen Sie "
        "innerhalb von 14 Tagen.",
    ],
)
def test_a_data_protection_objection_with_a_deadline_is_never_not_now(text: str) -> None:
    """ "within 28 days" inside a GDPR objection is no deferral: an opt-out (or review)."""
    result = classify(reply(text))
    assert result.intent is Intent.OPT_OUT or (
        result.review and result.intent is not Intent.NOT_NOW
    )


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I don't want this stuff in my inbox, these e-mails are pointless."),
        ("en", "Which part of no more e-mails was unclear?"),
        ("en", "Are you even allowed to use my personal data like this?"),
        ("de", "Ich möchte ehrlich gesagt nichts mehr von euch hören."),
        ("de", "Nach DSGVO: woher haben Sie meine Adresse?"),
        ("fr", "Je ne veux vraiment plus être contacté par vous."),
        ("fr", "Vous avez le droit RGPD de m'écrire ?"),
        ("es", "No quiero recibir nunca más correos de este tipo."),
        ("es", "¿De dónde han sacado mis datos personales? LOPD."),
    ],
)
def test_the_safety_net_catches_what_the_tables_do_not(language: str, text: str) -> None:
    """A loose opt-out is an opt-out or goes to a person, never handled automatically."""
    result = classify(reply(text, language=language))
    assert result.intent is Intent.OPT_OUT or "opt_out_net" in result.review_reasons


@pytest.mark.parametrize("subject", ["unsubscribe", "Re: REMOVE ME", "Abmelden", "baja"])
def test_a_subject_only_request_is_caught(subject: str) -> None:
    """An empty body under "unsubscribe" / "remove me" is an opt-out or reviewed."""
    result = classify(reply("", subject=subject, quoted=False))
    assert result.intent is Intent.OPT_OUT or "opt_out_net" in result.review_reasons


@pytest.mark.parametrize(
    "text",
    [
        "Sounds great, can you send me the pricing?",
        "Not interested, thanks.",
        "We already use Stockwise.",
        "Let's talk in March.",
    ],
)
def test_the_quoted_pitch_never_fires_the_net(text: str) -> None:
    """The pitch's own unsubscribe and GDPR footer, quoted below a reply, is not the prospect's."""
    message = reply(text, quoted=False)
    body = f"{text}\n\n{FOOTER_PITCH}"
    result = Classifier().classify(
        type(message)(
            id="m1",
            date=SENT,
            sender=message.sender,
            subject=message.subject,
            headers={},
            body=body,
        )
    )
    assert "opt_out_net" not in result.review_reasons
    assert result.intent is not Intent.OPT_OUT


def test_nothing_matched_goes_to_review() -> None:
    """A reply no phrase matches is other, and a person reads it."""
    result = classify(reply("Who is this?"))
    assert result.intent is Intent.OTHER
    assert result.review and "no_cue" in result.review_reasons


def test_conflicting_cues_go_to_review() -> None:
    """Interest and a competitor in the same breath: a person decides."""
    result = classify(reply("We went with Stockwise, but sounds interesting, send me pricing."))
    assert result.review
    assert "conflicting_cues" in result.review_reasons


def test_a_clear_reply_is_confident_and_handled() -> None:
    """A plain refusal needs no person: high confidence, no review."""
    result = classify(reply("Not interested, thanks."))
    assert result.intent is Intent.NOT_INTERESTED
    assert result.confidence >= 0.8
    assert not result.review


def test_review_threshold_is_configurable() -> None:
    """A bare "yes" is low confidence by default; with review_below = 0 it is not."""
    assert "low_confidence" in classify(reply("Yes.")).review_reasons
    lenient = RepliesConfig(review_below=0.0)
    assert "low_confidence" not in classify(reply("Yes."), lenient).review_reasons


def test_review_fields_reach_the_engine_and_the_cli() -> None:
    """Confidence, review and reasons are copied to ReplyInfo and printed by `classify`."""
    result = classify(reply("Who is this?"))
    assert result.review_reasons and result.confidence < 1.0  # not what a default would give
    info = to_reply_info(result, message_id="m1", thread_id="t1", subject="Re: x")
    assert (info.review, info.review_reasons, info.confidence) == (
        True,
        result.review_reasons,
        result.confidence,
    )
    record = output_record("m1", result)
    assert record["review"] is True
    assert record["review_reasons"] == list(result.review_reasons)
    assert record["confidence"] == result.confidence


@pytest.mark.parametrize(
    ("language", "text", "subject", "back"),
    [
        (
            "de",
            "Ich bin am 14. Oktober wieder im Büro.",
            "Automatische Antwort",
            date(2026, 10, 14),
        ),
        (
            "es",
            "A mi vuelta a partir del día 19 de octubre le responderé.",
            "Respuesta automática",
            date(2026, 10, 19),
        ),
        ("en", "Thanks for your e-mail.", "Automatic reply: Stock counts", None),
        ("fr", "Merci pour votre message.", "Réponse automatique", None),
    ],
)
def test_auto_replies_are_out_of_office_with_the_date_before_the_phrase(
    language: str, text: str, subject: str, back: date | None
) -> None:
    """An auto-reply is out_of_office by default, its return date read also before "back"."""
    result = classify(
        reply(text, language=language, subject=subject, headers={"Auto-Submitted": "auto-replied"})
    )
    assert (result.intent, result.return_date, result.review) == (Intent.OUT_OF_OFFICE, back, False)


def test_an_absence_naming_a_stand_in_is_out_of_office() -> None:
    """ "For urgent matters contact the front desk" does not make an absence a referral."""
    result = classify(
        reply(
            "Ich bin bis 20. Oktober abwesend. In dringenden Fällen wenden Sie sich an "
            "zentrale@prospect.example.",
            language="de",
        )
    )
    assert (result.intent, result.return_date) == (Intent.OUT_OF_OFFICE, date(2026, 10, 20))


def test_a_signature_s_data_protection_footer_does_not_fire_the_net() -> None:
    """A legal footer under a plain no mentions personal data; it is not a request."""
    text = (
        "Kein Interesse, danke.\n\nMit freundlichen Grüßen\nA. Schmidt\n"
        "Geschäftsführer: M. Muster, Amtsgericht München HRB 1234\n"
        "Datenschutzhinweis: zur Verarbeitung Ihrer personenbezogenen Daten siehe example.com"
    )
    result = classify(reply(text, language="de"))
    assert (result.intent, result.review) == (Intent.NOT_INTERESTED, False)


@pytest.mark.parametrize(
    "subject", ["Re: Stop losing stock", "AW: DSGVO-konforme Inventur", "RE: Opt-out rates"]
)
def test_a_pitch_subject_with_request_words_does_not_fire_the_net(subject: str) -> None:
    """ "Re: <the pitch's subject>" is not the prospect's request, whatever words it has."""
    result = classify(reply("Sounds good, send me the pricing.", subject=subject))
    assert (result.intent, result.review) == (Intent.INTERESTED, False)
