"""Builders for reply fixtures: a prospect's text above a quoted pitch, as mail clients send it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from syncd.replies import ReplyMessage

SENT = datetime(2026, 10, 8, 8, 15, tzinfo=UTC)  # a Thursday

PITCH_EN = (
    "On Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz <sam@harborlight.example> wrote:\n"
    "> Hi there, would you be interested in a short call about your stock counts?\n"
    "> Are you interested? Reply and let me know.\n"
)
PITCH = {
    "en": PITCH_EN,
    "de": (
        "Am Mi., 7. Okt. 2026 um 16:40 Uhr schrieb Sam Ortiz <sam@harborlight.example>:\n"
        "> Hallo, hätten Sie Interesse an einem kurzen Gespräch?\n"
    ),
    "fr": (
        "Le mer. 7 oct. 2026 à 16:40, Sam Ortiz <sam@harborlight.example> a écrit :\n"
        "> Bonjour, seriez-vous intéressé par un court échange ?\n"
    ),
    "es": (
        "El mié, 7 oct 2026 a las 16:40, Sam Ortiz (<sam@harborlight.example>) escribió:\n"
        "> Hola, ¿le interesaría una breve llamada?\n"
    ),
    "nl": (
        "Op wo 7 okt. 2026 om 16:40 schreef Sam Ortiz <sam@harborlight.example>:\n"
        "> Hallo, heeft u interesse in een kort gesprek?\n"
    ),
    "it": (
        "Il giorno mer 7 ott 2026 alle ore 16:40 Sam Ortiz <sam@harborlight.example> ha scritto:\n"
        "> Buongiorno, le interesserebbe una breve chiamata?\n"
    ),
    "pt": (
        "Em qua., 7 de out. de 2026 às 16:40, Sam Ortiz <sam@harborlight.example> escreveu:\n"
        "> Olá, teria interesse numa breve chamada?\n"
    ),
}


def reply(
    text: str,
    *,
    language: str = "en",
    subject: str = "Re: Stock counts",
    headers: Mapping[str, str] | None = None,
    sender: str = "Alex Kim <alex@prospect.example>",
    sent: datetime = SENT,
    quoted: bool = True,
) -> ReplyMessage:
    """A reply whose new text is `text`, written above the quoted pitch."""
    body = f"{text}\n\n{PITCH[language]}" if quoted else text
    return ReplyMessage(
        id="m1",
        date=sent,
        sender=sender,
        subject=subject,
        headers=dict(headers or {}),
        body=body,
    )
