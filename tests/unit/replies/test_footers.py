"""The sender's own signature and company footer are not read as their reply.

A footer's "click here to opt out of our newsletter" read as the prospect's words is a false
opt-out acted on without review; a title such as "Office Manager" read as theirs makes a
gatekeeper or a referral. The prospect's own request to stop must still always count.
"""

from __future__ import annotations

import pytest

from syncd.model import Channel, Intent
from syncd.replies import classify, extract_new_text
from syncd.replies.footer import (
    MAX_FOOTER_LINES,
    footer_start,
    is_footer_line,
    is_link_row,
    is_personal_line,
)
from tests.unit.replies.conftest import reply

# ---- company footers under a reply that is not an opt-out ---------------------------------

NEWSLETTER_EN = (
    "Happy to talk, does Wednesday at 3 work for you?\n\n"
    "Ruth Adeyemi\nPlant Controller\nKestrel Mills\n\n"
    "You are receiving this message because you signed up for Kestrel news.\n"
    "Unsubscribe | Update preferences | Privacy"
)
NO_LONGER_EN = (
    "We're covered for this year, thanks.\n\n"
    "If you no longer wish to receive e-mails from Kestrel Mills, click here to opt out."
)
STOP_KEYWORD_EN = (
    "Let's pick this up after the trade show in spring.\n\n"
    "~Ruth\n\nTo opt out of our SMS delivery alerts, reply STOP."
)
DSGVO_DE = (
    "Danke, wir haben dafür schon eine Lösung im Haus.\n\n"
    "Beste Grüße\nFrank Otte\nEinkaufsleiter\n\n"
    "Datenschutzhinweis: Nach Art. 13 DSGVO informieren wir Sie über die Verarbeitung Ihrer "
    "personenbezogenen Daten. Sie können der Nutzung jederzeit widersprechen.\n"
    "Wenn Sie unseren Newsletter nicht mehr erhalten möchten, können Sie ihn hier abbestellen."
)
RGPD_FR = (
    "Volontiers, appelez-moi jeudi matin.\n\n"
    "Bien à vous,\nHélène Roux\n\n"
    "Conformément au RGPD, vous disposez d'un droit d'opposition. Pour vous désabonner de "
    "nos actualités, cliquez ici."
)
BAJA_ES = (
    "Ahora mismo no, quizá a final de año.\n\n"
    "Un saludo,\nIker\n\n"
    "Si no desea recibir más comunicaciones comerciales, responda con la palabra BAJA."
)
AFMELDEN_NL = (
    "Nee, dank je, we zijn tevreden met wat we hebben.\n\n"
    "Hartelijke groet,\nDaan\n\n"
    "Wilt u onze nieuwsbrief niet meer ontvangen? Klik hier om u af te melden."
)


@pytest.mark.parametrize(
    ("text", "language", "intent"),
    [
        (NEWSLETTER_EN, "en", Intent.INTERESTED),
        (NO_LONGER_EN, "en", Intent.NOT_INTERESTED),
        (STOP_KEYWORD_EN, "en", Intent.NOT_NOW),
        (DSGVO_DE, "de", Intent.NOT_INTERESTED),
        (RGPD_FR, "fr", Intent.INTERESTED),
        (BAJA_ES, "es", Intent.NOT_NOW),
        (AFMELDEN_NL, "nl", Intent.NOT_INTERESTED),
    ],
)
def test_a_company_footer_never_makes_an_opt_out(text: str, language: str, intent: Intent) -> None:
    """Unsubscribe wording in the sender's own footer is not their request."""
    result = classify(reply(text, language=language))
    assert result.intent is not Intent.OPT_OUT
    assert not result.channels
    assert result.intent is intent or result.review


def test_the_footer_is_not_part_of_the_new_text() -> None:
    """What the rep sees quoted is the answer, without the signature and the footer."""
    assert extract_new_text(DSGVO_DE) == "Danke, wir haben dafür schon eine Lösung im Haus."
    assert extract_new_text(NEWSLETTER_EN) == "Happy to talk, does Wednesday at 3 work for you?"


# ---- opt-outs that also carry a footer ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "Take us off your list.\n\nThis e-mail is confidential and intended for the addressee "
            "only.",
            "en",
        ),
        (
            "unsubscribe\n\n--\nWes Hale\nYard Manager\nThis message may contain privileged "
            "information.",
            "en",
        ),
        (
            "Bitte keine E-Mails mehr.\n\nGruß\nA. Vogt\n\nDiese E-Mail ist vertraulich. Wenn Sie "
            "nicht der richtige Adressat sind, löschen Sie sie bitte.",
            "de",
        ),
        (
            "Merci de me désinscrire.\n\nEnvoyé de mon iPhone\n\nCe message est confidentiel et "
            "destiné exclusivement à son destinataire.",
            "fr",
        ),
        ("Por favor, no me escriban más.\n\nAVISO LEGAL: este mensaje es confidencial.", "es"),
        (
            "Graag uitschrijven.\n\nGroeten,\nTess\n\nDit bericht is vertrouwelijk en uitsluitend "
            "bestemd voor de geadresseerde.",
            "nl",
        ),
    ],
)
def test_an_opt_out_above_a_footer_is_still_honoured(text: str, language: str) -> None:
    """Stripping the footer never strips the request written above it."""
    result = classify(reply(text, language=language))
    assert result.intent is Intent.OPT_OUT or result.review


@pytest.mark.parametrize(
    "text",
    [
        "Not interested.\n\nIf you don't want to receive a complaint, stop emailing us.",
        "Thanks.\n\nThis email is confidential. Please remove us from your list.",
        "Hi Sam,\nI'm not the intended recipient of this, please remove me.",
        "No thanks.\n\nConfidentiality notice: not needed.\n\nunsubscribe",
        "Nein danke.\n\nDiese E-Mail ist vertraulich. Hören Sie auf, uns zu schreiben.",
    ],
)
def test_a_request_below_or_inside_footer_wording_is_the_prospects(text: str) -> None:
    """A line in the first person or asking to stop ends the footer: it is never cut."""
    result = classify(reply(text))
    assert result.intent is Intent.OPT_OUT or result.review


def test_a_footer_alone_is_never_cut_from_the_first_line() -> None:
    """A reply that is nothing but footer wording is read, not emptied."""
    text = "If you no longer wish to receive these e-mails, please stop."
    assert extract_new_text(text) == text


def test_a_postscript_below_the_signature_survives_the_footer() -> None:
    text = (
        "Sounds good.\n\nBest,\nAnn\n\nP.S. Thursday works best.\n\n"
        "This email and any attachments are confidential and intended solely for the addressee."
    )
    assert extract_new_text(text) == "Sounds good.\n\nP.S. Thursday works best."


# ---- sign-offs the signature rules missed -------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        "~ Corinne\nCorinne Blake | Office Manager\nHarbor Vets\n(503) 555-0170",
        "~Ned\nNed Price\nExecutive Assistant to the Founder",
        "--Ines\nInes Moreau\nExecutive Assistant\nT +33 1 70 00 00 00",
        "— Raj\n\nRaj Mehta\nHead of Facilities\nFor support please contact help@raj.example",
    ],
)
def test_a_tilde_or_dash_sign_off_starts_the_signature(signature: str) -> None:
    """The title and addresses below "~ Name" are not the reply: no gatekeeper, no referral."""
    text = f"Not for us, thanks.\n{signature}"
    assert extract_new_text(text) == "Not for us, thanks."
    result = classify(reply(text))
    assert result.intent is Intent.NOT_INTERESTED
    assert not result.gatekeeper
    assert result.referral_email is None


def test_a_dash_list_is_not_a_sign_off() -> None:
    text = "What we would need:\n- Pricing\n- Security review\n- Timeline"
    assert extract_new_text(text) == text


@pytest.mark.parametrize(
    ("closing", "language"),
    [
        ("Met vriendelijke groet,\n\nRoel Smit\nInkoper\nT 010 555 1234", "nl"),
        ("Groetjes,\nFemke", "nl"),
        ("Gr. Bram\n\nBram Visser | Bedrijfsleider", "nl"),
        ("Cordiali saluti,\nLuca Bassi\nResponsabile acquisti", "it"),
        ("Atenciosamente,\nRita Lopes\nDiretora financeira", "pt"),
    ],
)
def test_closings_in_more_languages(closing: str, language: str) -> None:
    assert extract_new_text(f"Geen interesse.\n\n{closing}") == "Geen interesse."


@pytest.mark.parametrize(
    "footer",
    [
        "Verstuurd vanaf mijn iPhone",
        "Outlook voor Android downloaden",
        "Holen Sie sich Outlook für iOS",
    ],
)
def test_more_mobile_footers(footer: str) -> None:
    """A mobile footer in the middle, above the company footer, ends the reply too."""
    text = f"Nu even niet.\n\n{footer}\n\nDit bericht is vertrouwelijk."
    assert extract_new_text(text) == "Nu even niet."


def test_a_contact_block_right_below_the_reply() -> None:
    """A name, title and phone with no blank line above are still the signature."""
    text = "Budget opens in April, try me then.\nGwen Ashby\nOperations Lead\n07700 900321"
    assert extract_new_text(text) == "Budget opens in April, try me then."


def test_a_name_and_title_paragraph_is_a_signature() -> None:
    text = "Let's talk Monday.\n\nOwen Clarke\nCOO, Clarke Haulage"
    assert extract_new_text(text) == "Let's talk Monday."


def test_a_contact_introduced_by_a_colon_is_the_reply() -> None:
    """ "Please talk to:" and a block below it is a referral, not a signature."""
    text = "Please talk to:\n\nMia Lund\nHead of Finance\nmia.lund@lund.example"
    assert "mia.lund@lund.example" in extract_new_text(text)
    result = classify(reply(text))
    assert result.referral_email == "mia.lund@lund.example" or result.review


def test_an_address_right_below_the_reply_is_kept() -> None:
    """Without a blank line a name with an address may be a referral: it stays."""
    text = "Not my area.\nPia Holm\npia.holm@holm.example"
    assert "pia.holm@holm.example" in extract_new_text(text)


def test_the_channels_come_from_the_request_not_the_footer() -> None:
    """The opt-out's channels come from the request, not the footer's wording."""
    text = (
        "Please don't call me again.\n\n"
        "If you no longer wish to receive our e-mails, click here to unsubscribe."
    )
    result = classify(reply(text))
    assert result.intent is Intent.OPT_OUT
    assert result.channels == frozenset({Channel.PHONE})


# ---- the line tests ------------------------------------------------------------------------


def test_footer_and_personal_lines() -> None:
    assert is_footer_line("CONFIDENTIALITY NOTICE: the contents are private")
    assert is_footer_line("Ce courriel est confidentiel et destiné au seul destinataire.")
    assert not is_footer_line("Unsubscribe")
    assert not is_footer_line("Please remove me from your list.")
    assert is_link_row("Unsubscribe | Manage preferences | View in browser")
    assert not is_link_row("Unsubscribe")
    assert is_personal_line("unsubscribe me")
    assert is_personal_line("Bitte austragen")
    assert not is_personal_line("If you are not the intended recipient, notify the sender.")


def test_footer_search_is_bounded() -> None:
    """A reply of footer lines costs the same as a short one: only the end is read."""
    lines = ["This message is confidential and intended for the addressee."] * 50_000
    assert footer_start(lines, list(range(len(lines)))) == len(lines) - MAX_FOOTER_LINES


@pytest.mark.parametrize(
    "text",
    [
        "No.\n\nBest,\nAnn\n\nunsubscribe",
        "Not now.\n\nThanks,\nAnn\n\nPlease take me off your list.",
        "No thanks\n\n-- \nAnn Shaw\nOps\n\nstop emailing me",
        "Kein Bedarf.\n\nViele Grüße\nAnn\n\nBitte austragen.",
    ],
)
def test_a_request_written_below_the_signature_is_new_text(text: str) -> None:
    """Like a postscript, a request to stop below the signature is the prospect's."""
    assert classify(reply(text)).intent is Intent.OPT_OUT


@pytest.mark.parametrize(
    "line",
    [
        "Unsubscribe from Alder updates: alder.example/unsubscribe",
        "Afmelden voor onze nieuwsbrief? Klik hier.",
        "Unsubscribe | Preferences",
    ],
)
def test_footer_links_below_the_signature_are_not_requests(line: str) -> None:
    text = f"Not for us, thanks.\n\nCheers,\nAnn\nAlder Foods\n\n{line}"
    assert extract_new_text(text) == "Not for us, thanks."
    assert classify(reply(text)).intent is not Intent.OPT_OUT


def test_a_story_about_unsubscribing_from_another_tool_is_the_reply() -> None:
    """ "We managed to unsubscribe from the old tool" is the prospect's news, not a footer's
    "To unsubscribe, click": it stays in the new text, and it is no opt-out."""
    body = "Hi Sam,\n\nWe managed to unsubscribe from the old tool last week. Send me times.\n"
    assert "old tool" in extract_new_text(body)
    result = classify(
        reply("We managed to unsubscribe from our previous platform. Let's set up a demo.")
    )
    assert result.intent is Intent.INTERESTED
