"""New-text extraction: quoted history, signatures and HTML removed, per client and language."""

from __future__ import annotations

import pytest

from syncd.replies import extract_new_text
from syncd.replies.extract import html_to_text
from tests.unit.replies import mail_cases

GMAIL_EN = (
    "Thanks, but we're all set with our current vendor.\n\n"
    "Pat\n\n"
    "On Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz <sam@harborlight.example> wrote:\n"
    "> Hi Pat, are you interested in a quick call?\n"
    "> Best, Sam\n"
)
GMAIL_EN_WRAPPED = (
    "Please take me off this list.\n\n"
    "On Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz from Harborlight Sales <\n"
    "sam@harborlight.example> wrote:\n\n"
    "> Are you interested?\n"
)
GMAIL_DE = (
    "Kein Bedarf, danke.\n\n"
    "Am Mi., 7. Okt. 2026 um 16:40 Uhr schrieb Sam Ortiz <sam@harborlight.example>:\n"
    "> Hallo, hätten Sie Interesse?\n"
)
GMAIL_FR = (
    "Merci, mais nous ne sommes pas intéressés pour le moment.\n\n"
    "Cordialement,\nMarie\n\n"
    "Le mer. 7 oct. 2026 à 16:40, Sam Ortiz <sam@harborlight.example> a écrit :\n"
    "> Bonjour Marie, êtes-vous intéressée ?\n"
)
GMAIL_ES = (
    "Denme de baja, por favor.\n\n"
    "El mié, 7 oct 2026 a las 16:40, Sam Ortiz (<sam@harborlight.example>) escribió:\n"
    "> Hola Juan, ¿le interesa?\n"
)
OUTLOOK_EN = (
    "Call me next week, Tuesday works.\n\n"
    "________________________________\n"
    "From: Sam Ortiz <sam@harborlight.example>\n"
    "Sent: Wednesday, October 7, 2026 4:40 PM\n"
    "To: Pat <pat@prospect.example>\n"
    "Subject: Stock counts\n\n"
    "Are you interested in a demo?\n"
)
OUTLOOK_DE = (
    "Bitte nehmen Sie mich aus Ihrem Verteiler.\n\n"
    "Mit freundlichen Grüßen\nHans Müller\nEinkauf\n\n"
    "Von: Sam Ortiz <sam@harborlight.example>\n"
    "Gesendet: Mittwoch, 7. Oktober 2026 16:40\n"
    "An: Hans Müller <hans@beispiel.example>\n"
    "Betreff: Inventur\n\n"
    "Hallo Herr Müller, sind Sie interessiert?\n"
)
OUTLOOK_FR = (
    "Pas pour le moment, recontactez-moi en mars.\n\n"
    "De : Sam Ortiz <sam@harborlight.example>\n"
    "Envoyé : mercredi 7 octobre 2026 16:40\n"
    "À : Marie <marie@exemple.example>\n"
    "Objet : Inventaire\n\n"
    "Bonjour Marie, êtes-vous intéressée ?\n"
)
OUTLOOK_ES = (
    "No nos interesa, gracias.\n\n"
    "Saludos,\nJuan\n\n"
    "De: Sam Ortiz <sam@harborlight.example>\n"
    "Enviado: miércoles, 7 de octubre de 2026 16:40\n"
    "Para: Juan <juan@ejemplo.example>\n"
    "Asunto: Inventario\n\n"
    "Hola Juan, ¿le interesa?\n"
)
APPLE_EN = (
    "Sure, let's talk Thursday.\n\n"
    "Sent from my iPhone\n\n"
    "> On Oct 7, 2026, at 16:40, Sam Ortiz <sam@harborlight.example> wrote:\n"
    ">\n"
    "> Are you interested?\n"
)
APPLE_DE = (
    "Gerne, rufen Sie mich an.\n\n"
    "Von meinem iPhone gesendet\n\n"
    "> Am 07.10.2026 um 16:40 schrieb Sam Ortiz <sam@harborlight.example>:\n"
    ">\n"
    "> Sind Sie interessiert?\n"
)
APPLE_FR = (
    "Oui, appelez-moi demain.\n\n"
    "Envoyé de mon iPhone\n\n"
    "> Le 7 oct. 2026 à 16:40, Sam Ortiz <sam@harborlight.example> a écrit :\n"
    ">\n"
    "> Êtes-vous intéressé ?\n"
)
APPLE_ES = (
    "Sí, hablemos el lunes.\n\n"
    "Enviado desde mi iPhone\n\n"
    "> El 7 oct 2026, a las 16:40, Sam Ortiz <sam@harborlight.example> escribió:\n"
    ">\n"
    "> ¿Le interesa?\n"
)
ORIGINAL_MESSAGE = (
    "Remove me.\n\n"
    "-----Original Message-----\n"
    "From: Sam Ortiz\nSent: Tuesday\nTo: Pat\nSubject: hi\n\n"
    "Are you interested?\n"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            GMAIL_EN, "Thanks, but we're all set with our current vendor.\n\nPat", id="gmail-en"
        ),
        pytest.param(GMAIL_EN_WRAPPED, "Please take me off this list.", id="gmail-en-wrapped"),
        pytest.param(GMAIL_DE, "Kein Bedarf, danke.", id="gmail-de"),
        pytest.param(
            GMAIL_FR, "Merci, mais nous ne sommes pas intéressés pour le moment.", id="gmail-fr"
        ),
        pytest.param(GMAIL_ES, "Denme de baja, por favor.", id="gmail-es"),
        pytest.param(OUTLOOK_EN, "Call me next week, Tuesday works.", id="outlook-en"),
        pytest.param(OUTLOOK_DE, "Bitte nehmen Sie mich aus Ihrem Verteiler.", id="outlook-de"),
        pytest.param(OUTLOOK_FR, "Pas pour le moment, recontactez-moi en mars.", id="outlook-fr"),
        pytest.param(OUTLOOK_ES, "No nos interesa, gracias.", id="outlook-es"),
        pytest.param(APPLE_EN, "Sure, let's talk Thursday.", id="apple-en"),
        pytest.param(APPLE_DE, "Gerne, rufen Sie mich an.", id="apple-de"),
        pytest.param(APPLE_FR, "Oui, appelez-moi demain.", id="apple-fr"),
        pytest.param(APPLE_ES, "Sí, hablemos el lunes.", id="apple-es"),
        pytest.param(ORIGINAL_MESSAGE, "Remove me.", id="original-message"),
    ],
)
def test_quoted_history_and_signature_are_removed(body: str, expected: str) -> None:
    """Only what the prospect wrote remains, whichever client and language quoted the pitch."""
    assert extract_new_text(body) == expected


def test_pitch_wording_never_reaches_the_new_text() -> None:
    """The quoted pitch's "Are you interested?" is gone, so it cannot look like interest."""
    for body in (GMAIL_EN, OUTLOOK_EN, OUTLOOK_DE, APPLE_EN, GMAIL_ES):
        assert "interes" not in extract_new_text(body).lower()


def test_dash_signature_is_removed() -> None:
    """A conventional "-- " signature block is not part of the reply."""
    assert extract_new_text("Not now.\n-- \nPat Smith\nCEO, Prospect Inc.\n") == "Not now."


def test_a_sentence_starting_with_thanks_is_not_taken_for_a_signature() -> None:
    """ "Thanks, but please remove me" is the request itself and must survive."""
    body = "Hi Sam,\nThanks, but please remove me from your list.\n\nBest regards,\nPat\n"
    assert extract_new_text(body) == "Hi Sam,\nThanks, but please remove me from your list."


def test_a_dash_list_is_not_taken_for_a_signature() -> None:
    """Lines starting with "- " are the reply's own list, not a signature."""
    body = "Two things:\n- please stop emailing me\n- and do not call\n"
    assert "please stop emailing me" in extract_new_text(body)
    assert "do not call" in extract_new_text(body)


def test_postscript_below_the_signature_is_kept() -> None:
    """A "P.S." written under the signature is new text too."""
    body = "Not now.\n\nBest regards,\nPat\nP.S. please stop calling my mobile\n"
    assert extract_new_text(body) == "Not now.\n\nP.S. please stop calling my mobile"


def test_reply_written_below_the_quote_is_found() -> None:
    """Bottom-posted replies are recovered from the unquoted lines."""
    body = (
        "On Wed, Oct 7, 2026 at 4:40 PM Sam <sam@harborlight.example> wrote:\n"
        "> Are you interested?\n> Let me know.\n\nNo. Remove me from your list.\n"
    )
    assert extract_new_text(body) == "No. Remove me from your list."


def test_forward_without_new_text_is_empty() -> None:
    """A mail that only carries an Outlook header block and the pitch has no new text."""
    body = "From: Sam <sam@x.example>\nSent: Tuesday\nTo: Pat\nSubject: hi\n\nAre you interested?\n"
    assert extract_new_text(body) == ""


def test_windows_line_endings_are_handled() -> None:
    """CRLF bodies are split like LF bodies."""
    assert extract_new_text(GMAIL_DE.replace("\n", "\r\n")) == "Kein Bedarf, danke."


GMAIL_HTML = (
    '<div dir="ltr">Please stop emailing me.<br><br>Thanks,<br>Pat</div><br>'
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Wed, Oct 7, 2026 at 4:40 PM '
    'Sam Ortiz &lt;<a href="mailto:sam@harborlight.example">sam@harborlight.example</a>&gt; '
    'wrote:<br></div><blockquote class="gmail_quote">Hello Pat, are you interested?'
    "</blockquote></div>"
)
OUTLOOK_WEB_HTML = (
    '<html><body><div class="WordSection1"><p class="MsoNormal">Kein Interesse, danke.'
    '<o:p></o:p></p><p class="MsoNormal">Gruß<br>Hans</p></div><div id="appendonsend"></div>'
    '<hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr">'
    '<font face="Calibri"><b>Von:</b> Sam Ortiz &lt;sam@harborlight.example&gt;<br>'
    "<b>Gesendet:</b> Mittwoch, 7. Oktober 2026 16:40<br><b>An:</b> Hans<br>"
    "<b>Betreff:</b> Inventur</font><div>&nbsp;</div></div>"
    '<div><div dir="ltr">Hallo Hans, sind Sie interessiert?</div></div></body></html>'
)
OUTLOOK_DESKTOP_HTML = (
    "<html><body><div class=WordSection1><p class=MsoNormal>Pas pour le moment, "
    "recontactez-moi en mars.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div>"
    "<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
    "<p class=MsoNormal><b>De&nbsp;:</b> Sam Ortiz &lt;sam@harborlight.example&gt; <br>"
    "<b>Envoyé&nbsp;:</b> mercredi 7 octobre 2026 16:40<br><b>À&nbsp;:</b> Marie<br>"
    "<b>Objet&nbsp;:</b> Inventaire<o:p></o:p></p></div></div><p class=MsoNormal>"
    "Bonjour Marie, êtes-vous intéressée ?<o:p></o:p></p></div></body></html>"
)
APPLE_HTML = (
    '<html><body dir="auto">Yes, let\'s talk Tuesday.<br><br><div dir="ltr">Sent from my '
    'iPhone</div><div dir="ltr"><br><blockquote type="cite">On Oct 7, 2026, at 16:40, Sam '
    "Ortiz &lt;sam@harborlight.example&gt; wrote:<br><br></blockquote></div>"
    '<blockquote type="cite"><div dir="ltr">Are you interested?</div></blockquote></body></html>'
)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(GMAIL_HTML, "Please stop emailing me.", id="gmail"),
        pytest.param(OUTLOOK_WEB_HTML, "Kein Interesse, danke.", id="outlook-web-de"),
        pytest.param(
            OUTLOOK_DESKTOP_HTML,
            "Pas pour le moment, recontactez-moi en mars.",
            id="outlook-desktop-fr",
        ),
        pytest.param(APPLE_HTML, "Yes, let's talk Tuesday.", id="apple"),
    ],
)
def test_html_only_mails_are_unwrapped(html: str, expected: str) -> None:
    """HTML-only replies lose their quote containers and markup, then their signature."""
    assert extract_new_text("", html) == expected


def test_plain_text_part_is_preferred_over_html() -> None:
    """When both parts exist the text/plain one is read."""
    assert extract_new_text("Not now.", "<p>Something else</p>") == "Not now."


def test_html_to_text_keeps_line_structure_and_drops_styles() -> None:
    """Block elements become line breaks; entities are decoded; style content is dropped."""
    html = "<style>p{color:red}</style><p>One &amp; two</p><div>three<br>four</div>"
    assert html_to_text(html) == "One & two\n\nthree\nfour"


def test_empty_inputs_give_empty_text() -> None:
    """No body and no HTML is an empty reply, not an error."""
    assert extract_new_text("") == ""
    assert extract_new_text("", "   ") == ""


@pytest.mark.parametrize("case", mail_cases.ALL, ids=lambda case: case.id)
def test_real_client_layouts_give_exactly_the_new_text(case: mail_cases.Case) -> None:
    """Each client's and language's layout yields exactly what the prospect wrote."""
    assert extract_new_text(case.body, case.html) == case.expected
