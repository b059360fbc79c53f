"""Replies that say it indirectly: refusals around the decision, commitments to another vendor,
a refusal that names its reason, colleagues copied onto a meeting, deferrals to a feast day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from syncd.model import Intent
from syncd.replies import classify
from syncd.replies.dates import DateFinder
from syncd.replies.lexicon.registry import LEXICONS
from syncd.replies.text import folded
from tests.unit.replies.conftest import reply

FINDER = DateFinder(list(LEXICONS.values()))


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Thanks Sam, but it isn't something we would proceed with."),
        ("en", "Truthfully I can't see our team adopting another tool for this."),
        ("en", "That's a firm no from our side."),
        ("en", "It wouldn't fix any problem we actually have, so no."),
        ("en", "We'll sit this one out, thanks."),
        ("en", "We're not taking things any further, all the best."),
        ("de", "Ehrlich gesagt sehen wir darin keinen großen Nutzen."),
        ("de", "Das werden wir nicht weiterverfolgen."),
        ("es", "Gracias, pero no pensamos seguir adelante con el tema."),
        ("es", "Ni hoy ni más adelante, gracias."),
    ],
)
def test_refusals_phrased_around_the_decision_are_not_interested(language: str, text: str) -> None:
    result = classify(reply(text, language=language))
    assert result.intent is Intent.NOT_INTERESTED, result.evidence
    assert not result.review, result.review_reasons


@pytest.mark.parametrize(
    ("language", "text", "vendor"),
    [
        ("en", "The group standardized on Cratebase two years ago.", "Cratebase"),
        ("en", "We are committed to Palleto until the contract runs out.", "Palleto"),
        ("en", "Sorry, we're locked into ShelfIQ for now.", "ShelfIQ"),
        ("de", "Wir vertrauen seit Jahren auf Lagerfix.", "Lagerfix"),
        ("de", "Der Konzern hat sich auf Inventra festgelegt.", "Inventra"),
        ("de", "Die Gruppe setzt voll auf Tallyhub.", "Tallyhub"),
    ],
)
def test_a_commitment_to_another_vendor_is_a_competitor_reply(
    language: str, text: str, vendor: str
) -> None:
    result = classify(reply(text, language=language))
    assert result.intent is Intent.COMPETITOR, result.evidence
    assert result.competitor == vendor


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "No thanks, we went with Countly last month."),
        ("en", "Nope. We already run one of your competitors."),
        ("es", "No, gracias. Acabamos de contratar con otro proveedor."),
    ],
)
def test_a_refusal_that_names_a_competitor_is_a_competitor_reply(language: str, text: str) -> None:
    """The competitor is the reason the policy acts on: an early check-in, then the renewal."""
    result = classify(reply(text, language=language))
    assert result.intent is Intent.COMPETITOR, result.evidence


def test_a_colleague_copied_onto_the_meeting_is_no_referral() -> None:
    result = classify(reply("Happy to take a look. Cc'ing my finance lead on the invite."))
    assert result.intent is Intent.INTERESTED, result.evidence


def test_a_colleague_copied_to_take_over_is_a_referral() -> None:
    result = classify(reply("Looping in my colleague Dana, she runs purchasing now."))
    assert result.intent is Intent.REFERRAL, result.evidence


def test_german_interest_in_so_many_words() -> None:
    result = classify(reply("So etwas interessiert uns, wann hätten Sie Zeit?", language="de"))
    assert result.intent is Intent.INTERESTED, result.evidence


@pytest.mark.parametrize(
    ("language", "text", "sent", "expected"),
    [
        ("en", "Try again after Easter.", date(2026, 1, 20), date(2026, 4, 7)),
        ("en", "Post-Easter works.", date(2026, 5, 4), date(2027, 3, 30)),
        ("de", "Bitte nach den Osterferien.", date(2027, 2, 1), date(2027, 3, 30)),
        ("fr", "Après Pâques, merci.", date(2026, 2, 2), date(2026, 4, 7)),
        ("es", "Después de Semana Santa.", date(2026, 2, 2), date(2026, 4, 7)),
        ("nl", "Na Pasen graag.", date(2026, 2, 2), date(2026, 4, 7)),
        ("it", "Dopo Pasqua.", date(2026, 2, 2), date(2026, 4, 7)),
        ("pt", "Depois da Páscoa.", date(2026, 2, 2), date(2026, 4, 7)),
        ("en", "After Thanksgiving is better.", date(2026, 10, 1), date(2026, 11, 30)),
        ("en", "After Thanksgiving is better.", date(2027, 10, 1), date(2027, 11, 29)),
        ("en", "Not before the new year.", date(2026, 10, 1), date(2027, 1, 1)),
    ],
)
def test_deferrals_to_a_feast_resolve_against_the_reply_date(
    language: str, text: str, sent: date, expected: date
) -> None:
    days = [t.day for t in FINDER.timings(folded(text), sent, language) if t.day is not None]
    assert max(days, default=None) == expected


def test_a_deferral_to_easter_is_not_now_with_its_date() -> None:
    sent = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    text = "Nach Ostern gerne wieder, jetzt ist es schlecht."
    result = classify(reply(text, language="de", sent=sent))
    assert result.intent is Intent.NOT_NOW, result.evidence
    assert result.followup_after == date(2026, 4, 7)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "Me encuentro de baja. Para pedidos, escriba a pedidos@prospect.example."),
        ("es", "Estoy de baja hasta nuevo aviso; consultas a soporte@prospect.example."),
        ("it", "Sono in malattia, per urgenze contattate amministrazione@prospect.example."),
        ("pt", "Estou de licença. Assuntos urgentes: geral@prospect.example."),
    ],
)
def test_sick_leave_notices_with_a_contact_are_out_of_office(language: str, text: str) -> None:
    """Leave "until further notice" with a desk to write to is an absence, not a referral:
    the address is where urgent matters go while the person is away."""
    result = classify(
        reply(
            text,
            language=language,
            subject="Re: Stock counts",
            headers={"Auto-Submitted": "auto-replied"},
            quoted=False,
        )
    )
    assert result.intent is Intent.OUT_OF_OFFICE, result.evidence


def test_being_unsubscribed_from_the_list_is_still_an_opt_out() -> None:
    """ "De baja" in a request ("dame de baja") stays an opt-out; only "estoy de baja" is leave."""
    result = classify(reply("Por favor, dadme de baja de la lista.", language="es"))
    assert result.intent is Intent.OPT_OUT
