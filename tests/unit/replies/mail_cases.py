"""Replies as real mail clients send them, in four languages, with the new text expected.

Written for this project: each is a full plain-text (or HTML-only) body as Gmail, Outlook
(desktop, web, mobile), Apple Mail, Android, Thunderbird or Yahoo lay it out, answering a
pitch from Harborlight.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    body: str
    expected: str
    html: str | None = None


PITCH_EN = (
    "> Hi Pat,\n>\n> Would you be open to a short call about stock counts?\n>\n> Best,\n> Sam\n"
)
PITCH_DE = (
    "> Hallo Herr Wolf,\n>\n> hätten Sie Zeit für ein kurzes Gespräch?\n>\n> Viele Grüße\n> Sam\n"
)
PITCH_FR = "> Bonjour Claire,\n>\n> seriez-vous disponible pour un court appel ?\n>\n> Sam\n"
PITCH_ES = "> Hola Lucía,\n>\n> ¿Tendría unos minutos para una llamada?\n>\n> Saludos,\n> Sam\n"
UNQUOTED_PITCH = "Hi Pat,\n\nWould you be open to a short call about stock counts?\n\nBest,\nSam\n"

SEPARATORS = [
    Case(
        "reply-message",
        "Not interested, sorry.\n\n-----Reply Message-----\n"
        "From: Sam Ortiz <sam@harborlight.example>\n"
        "To: Pat <pat@prospect.example>\nSent: 2026-10-07 16:40\nSubject: Stock counts\n\n"
        + UNQUOTED_PITCH,
        "Not interested, sorry.",
    ),
    Case(
        "antwort-nachricht",
        "Kein Bedarf.\n\n-----Antwort Nachricht-----\nVon: Sam Ortiz <sam@harborlight.example>\n"
        "An: Wolf <wolf@beispiel.example>\nDatum: 07.10.2026 16:40\nBetreff: Inventur\n\n"
        "Hallo Herr Wolf, hätten Sie Zeit?\n",
        "Kein Bedarf.",
    ),
    Case(
        "urspruengliche-nachricht",
        "Bitte entfernen Sie mich aus Ihrem Verteiler.\n\nMfG\nK. Wolf\n\n"
        "-----Ursprüngliche Nachricht-----\nVon: Sam Ortiz [mailto:sam@harborlight.example]\n"
        "Gesendet: Mittwoch, 7. Oktober 2026 16:40\nAn: Wolf, Karl\nBetreff: Inventur\n\n"
        "Hallo Herr Wolf, hätten Sie Zeit?\n",
        "Bitte entfernen Sie mich aus Ihrem Verteiler.",
    ),
    Case(
        "message-d-origine",
        "Merci de ne plus m'écrire.\n\n-----Message d'origine-----\n"
        "De : Sam Ortiz [mailto:sam@harborlight.example]\nEnvoyé : mercredi 7 octobre 2026 16:40\n"
        "À : Claire Martin\nObjet : Inventaire\n\nBonjour Claire, seriez-vous disponible ?\n",
        "Merci de ne plus m'écrire.",
    ),
    Case(
        "mensaje-original",
        "Ahora no, escríbame en enero.\n\n-----Mensaje original-----\n"
        "De: Sam Ortiz [mailto:sam@harborlight.example]\nEnviado el: miércoles, 7 de octubre de "
        "2026 16:40\nPara: Lucía Gómez\nAsunto: Inventario\n\nHola Lucía, ¿tendría unos minutos?\n",
        "Ahora no, escríbame en enero.",
    ),
    Case(
        "original-message-thunderbird",
        "We signed with another vendor last month.\n\n-------- Original Message --------\n"
        "Subject: Stock counts\nDate: Wed, 7 Oct 2026 16:40:00 +0200\n"
        "From: Sam Ortiz <sam@harborlight.example>\nTo: pat@prospect.example\n\n" + UNQUOTED_PITCH,
        "We signed with another vendor last month.",
    ),
    Case(
        "samsung-original-message",
        "Call me Monday\n\nSent from my Galaxy\n\n\n-------- Original message --------\n"
        "From: Sam Ortiz <sam@harborlight.example>\nDate: 10/7/26 16:40 (GMT+01:00)\n"
        "To: pat@prospect.example\nSubject: Stock counts\n\n" + UNQUOTED_PITCH,
        "Call me Monday",
    ),
    Case(
        "android-dashed-wrote",
        "Please stop emailing me.\n\n---- Sam Ortiz wrote ----\n\n" + UNQUOTED_PITCH,
        "Please stop emailing me.",
    ),
    Case(
        "zoho-dashed-on-wrote",
        "Talk in Q2.\n\n---- On Wed, 07 Oct 2026 16:40:00 +0200 Sam Ortiz "
        "<sam@harborlight.example> wrote ----\n\n" + UNQUOTED_PITCH,
        "Talk in Q2.",
    ),
    Case(
        "outlook-underscore-rule",
        "Thanks, we're covered.\n\n________________________________\n"
        "From: Sam Ortiz <sam@harborlight.example>\nSent: Wednesday, October 7, 2026 4:40 PM\n"
        "To: Pat <pat@prospect.example>\nSubject: Stock counts\n\n" + UNQUOTED_PITCH,
        "Thanks, we're covered.",
    ),
]

ATTRIBUTIONS = [
    Case(
        "on-sent",
        "No budget this year.\n\nOn Wed, Oct 7, 2026 at 4:40 PM, Sam Ortiz "
        "<sam@harborlight.example> sent:\n" + PITCH_EN,
        "No budget this year.",
    ),
    Case(
        "attribution-same-line",
        "Thanks, not now. On Mon, 3 Mar 2025 John Baker <john@harborlight.example> wrote:\n"
        + PITCH_EN,
        "Thanks, not now.",
    ),
    Case(
        "attribution-same-line-de",
        "Danke, kein Interesse. Am 03.03.2025 um 10:12 schrieb John Baker "
        "<john@harborlight.example>:\n" + PITCH_DE,
        "Danke, kein Interesse.",
    ),
    Case(
        "gmail-wrapped-attribution",
        "Remove me please.\n\nOn Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz, Account Executive at "
        "Harborlight <\nsam@harborlight.example> wrote:\n\n" + PITCH_EN,
        "Remove me please.",
    ),
    Case(
        "gmail-wrapped-three-lines",
        "Not the right person, try ops@prospect.example.\n\nOn Wednesday, October 7, 2026 at "
        "4:40:12 PM UTC+2, Samuel Alexander Ortiz-Whitfield\nfrom Harborlight Inventory "
        "Solutions <samuel.ortiz-whitfield@\nharborlight.example> wrote:\n\n" + PITCH_EN,
        "Not the right person, try ops@prospect.example.",
    ),
    Case(
        "gmail-de-wrapped",
        "Melden Sie sich im Frühjahr.\n\nAm Mi., 7. Okt. 2026 um 16:40 Uhr schrieb Sam Ortiz <\n"
        "sam@harborlight.example>:\n\n" + PITCH_DE,
        "Melden Sie sich im Frühjahr.",
    ),
    Case(
        "gmail-fr-nbsp",
        "Pas intéressée, merci.\n\nLe mer. 7 oct. 2026 à 16:40, Sam Ortiz "
        "<sam@harborlight.example> a\u00a0écrit\u00a0:\n" + PITCH_FR,
        "Pas intéressée, merci.",
    ),
    Case(
        "gmail-es",
        "Hablemos la semana que viene.\n\nEl mié., 7 oct. 2026 a las 16:40, Sam Ortiz (<"
        "sam@harborlight.example>) escribió:\n" + PITCH_ES,
        "Hablemos la semana que viene.",
    ),
    Case(
        "thunderbird-de",
        "Nein danke.\n\nAm 07.10.26 um 16:40 schrieb Sam Ortiz:\n" + PITCH_DE,
        "Nein danke.",
    ),
    Case(
        "thunderbird-en-name-wrote",
        "We already use Stockwise.\n\nSam Ortiz <sam@harborlight.example> wrote:\n" + PITCH_EN,
        "We already use Stockwise.",
    ),
    Case(
        "old-gmail-date-first",
        "Ok, send me the deck.\n\n2026/10/7 Sam Ortiz <sam@harborlight.example>:\n" + PITCH_EN,
        "Ok, send me the deck.",
    ),
    Case(
        "apple-fr",
        "Rappelez-moi en janvier.\n\nEnvoyé de mon iPhone\n\n> Le 7 oct. 2026 à 16:40, Sam "
        "Ortiz <sam@harborlight.example> a écrit :\n>\n" + PITCH_FR,
        "Rappelez-moi en janvier.",
    ),
    Case(
        "apple-es",
        "No gracias.\n\nEnviado desde mi iPhone\n\n> El 7 oct 2026, a las 16:40, Sam Ortiz "
        "<sam@harborlight.example> escribió:\n>\n" + PITCH_ES,
        "No gracias.",
    ),
    Case(
        "yahoo-on-wrote",
        "Out of budget.\n\nSent from Yahoo Mail on Android\n\n  On Wed, Oct 7, 2026 at 16:40, "
        "Sam Ortiz<sam@harborlight.example> wrote:   " + PITCH_EN,
        "Out of budget.",
    ),
    Case(
        "attribution-without-quote-marks",
        "Not for us.\n\nOn Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz <sam@harborlight.example> "
        "wrote:\n\n" + UNQUOTED_PITCH,
        "Not for us.",
    ),
]

OUTLOOK = [
    Case(
        "outlook-en-cc",
        "Please call me tomorrow at 10.\n\nFrom: Sam Ortiz <sam@harborlight.example>\n"
        "Sent: Wednesday, October 7, 2026 4:40 PM\nTo: Pat <pat@prospect.example>\n"
        "Cc: Dana <dana@prospect.example>\nSubject: Stock counts\n\n" + UNQUOTED_PITCH,
        "Please call me tomorrow at 10.",
    ),
    Case(
        "outlook-de",
        "Wir haben uns für einen anderen Anbieter entschieden.\n\nMit freundlichen Grüßen\n"
        "Karl Wolf\nLeiter Einkauf\nBeispiel GmbH\nTel. +49 30 1234567\n\n"
        "Von: Sam Ortiz <sam@harborlight.example>\nGesendet: Mittwoch, 7. Oktober 2026 16:40\n"
        "An: Karl Wolf <wolf@beispiel.example>\nBetreff: Inventur\n\nHallo Herr Wolf,\n",
        "Wir haben uns für einen anderen Anbieter entschieden.",
    ),
    Case(
        "outlook-fr-spacing-reply-to",
        "Je ne suis pas la bonne personne, voyez avec Marc.\n\nDe\u00a0: Sam Ortiz "
        "<sam@harborlight.example>\nEnvoyé\u00a0: mercredi 7 octobre 2026 16:40\n"
        "À\u00a0: Claire Martin <claire@exemple.example>\nRépondre à\u00a0: "
        "sam@harborlight.example\nObjet\u00a0: Inventaire\n\nBonjour Claire,\n",
        "Je ne suis pas la bonne personne, voyez avec Marc.",
    ),
    Case(
        "outlook-fr-reply-to-first",
        "Désinscrivez-moi.\n\nDe : Sam Ortiz <sam@harborlight.example>\n"
        "Répondre à : Sam Ortiz <sam@harborlight.example>\nDate : mercredi 7 octobre 2026 à 16:40\n"
        "À : claire@exemple.example\nObjet : Inventaire\n\nBonjour Claire,\n",
        "Désinscrivez-moi.",
    ),
    Case(
        "outlook-es-enviado-el",
        "Por favor, no me escriban más.\n\nDe: Sam Ortiz <sam@harborlight.example>\n"
        "Enviado el: miércoles, 7 de octubre de 2026 16:40\nPara: Lucía Gómez "
        "<lucia@ejemplo.example>\nAsunto: Inventario\n\nHola Lucía,\n",
        "Por favor, no me escriban más.",
    ),
    Case(
        "outlook-bold-markdown",
        "Not now, maybe next year.\n\n*From:* Sam Ortiz <sam@harborlight.example>\n"
        "*Sent:* Wednesday, October 7, 2026 4:40 PM\n*To:* Pat\n*Subject:* Stock counts\n\n"
        + UNQUOTED_PITCH,
        "Not now, maybe next year.",
    ),
    Case(
        "outlook-mobile-en",
        "Sure, Thursday works.\n\nGet Outlook for iOS\n________________________________\n"
        "From: Sam Ortiz <sam@harborlight.example>\nSent: Wednesday, October 7, 2026 4:40:12 PM\n"
        "To: Pat <pat@prospect.example>\nSubject: Stock counts\n\n" + UNQUOTED_PITCH,
        "Sure, Thursday works.",
    ),
    Case(
        "outlook-android-de",
        "Bitte nicht mehr anrufen.\n\nOutlook für Android herunterladen\n"
        "________________________________\nVon: Sam Ortiz <sam@harborlight.example>\n"
        "Gesendet: Mittwoch, Oktober 7, 2026 4:40 PM\nAn: Wolf\nBetreff: Inventur\n\nHallo\n",
        "Bitte nicht mehr anrufen.",
    ),
    Case(
        "forward-only-header-block",
        "From: Sam <sam@harborlight.example>\nSent: Tuesday\nTo: Pat\nSubject: hi\n\n"
        + UNQUOTED_PITCH,
        "",
    ),
]

FORWARDS = [
    Case(
        "forward-apple-en",
        "Jane handles this, copying her.\n\nBegin forwarded message:\n\n"
        "From: Sam Ortiz <sam@harborlight.example>\nSubject: Stock counts\n"
        "Date: October 7, 2026 at 16:40:00 GMT+2\nTo: pat@prospect.example\n\n" + UNQUOTED_PITCH,
        "Jane handles this, copying her.",
    ),
    Case(
        "forward-gmail-en",
        "FYI\n\n---------- Forwarded message ---------\nFrom: Sam Ortiz "
        "<sam@harborlight.example>\nDate: Wed, Oct 7, 2026 at 4:40 PM\nSubject: Stock counts\n"
        "To: <pat@prospect.example>\n\n" + UNQUOTED_PITCH,
        "FYI",
    ),
    Case(
        "forward-de",
        "Zur Info, bitte übernehmen.\n\n-------- Weitergeleitete Nachricht --------\n"
        "Betreff: Inventur\nDatum: Wed, 7 Oct 2026 16:40:00 +0200\nVon: Sam Ortiz "
        "<sam@harborlight.example>\nAn: wolf@beispiel.example\n\nHallo Herr Wolf,\n",
        "Zur Info, bitte übernehmen.",
    ),
    Case(
        "forward-apple-fr",
        "Pour toi.\n\nDébut du message réexpédié :\n\nDe: Sam Ortiz <sam@harborlight.example>\n"
        "Objet: Inventaire\nDate: 7 octobre 2026 à 16:40:00 UTC+2\nÀ: claire@exemple.example\n\n"
        "Bonjour Claire,\n",
        "Pour toi.",
    ),
    Case(
        "forward-es",
        "Te lo reenvío.\n\n---------- Mensaje reenviado ---------\nDe: Sam Ortiz "
        "<sam@harborlight.example>\nDate: mié, 7 oct 2026 a las 16:40\nSubject: Inventario\n"
        "To: <lucia@ejemplo.example>\n\nHola Lucía,\n",
        "Te lo reenvío.",
    ),
    Case(
        "forward-apple-es",
        "Mira esto.\n\nInicio del mensaje reenviado:\n\nDe: Sam Ortiz <sam@harborlight.example>\n"
        "Asunto: Inventario\nFecha: 7 de octubre de 2026, 16:40:00 CEST\nPara: "
        "lucia@ejemplo.example\n\nHola Lucía,\n",
        "Mira esto.",
    ),
    Case(
        "forward-fr-transfere",
        "Voir ci-dessous.\n\n-------- Message transféré --------\nSujet : Inventaire\n"
        "Date : Wed, 7 Oct 2026 16:40:00 +0200\nDe : Sam Ortiz <sam@harborlight.example>\n\n"
        "Bonjour Claire,\n",
        "Voir ci-dessous.",
    ),
]

INTERLEAVED = [
    Case(
        "answer-below-quoted-greeting",
        "Hi Sam,\n\n" + PITCH_EN + "\nNo, please remove me from your list.\n",
        "Hi Sam,\n\nNo, please remove me from your list.",
    ),
    Case(
        "bottom-post-after-attribution",
        "On Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz <sam@harborlight.example> wrote:\n"
        + PITCH_EN
        + "\nWe went with Stockwise.\n\nPat\n",
        "We went with Stockwise.\n\nPat",
    ),
    Case(
        "inline-answers",
        "On Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz <sam@harborlight.example> wrote:\n"
        "> Would you be open to a short call?\n\nNot this quarter.\n\n"
        "> If not, who handles inventory?\n\nTry Dana, dana@prospect.example.\n\n"
        "> Best,\n> Sam\n",
        "Not this quarter.\n\nTry Dana, dana@prospect.example.",
    ),
    Case(
        "inline-answers-de-signature",
        "Am 07.10.2026 um 16:40 schrieb Sam Ortiz <sam@harborlight.example>:\n"
        "> hätten Sie Zeit für ein kurzes Gespräch?\nNein.\n> Oder wer wäre zuständig?\n"
        "Frau Berg.\n\nViele Grüße\nKarl Wolf\n",
        "Nein.\nFrau Berg.",
    ),
    Case(
        "quote-first-no-attribution",
        "> Would you be open to a short call?\n\nYes, Tuesday 3pm works.\n\n-- \nPat Smith\n",
        "Yes, Tuesday 3pm works.",
    ),
]

SIGNATURES = [
    Case(
        "dash-signature",
        "Not now, try again in spring.\n\n-- \nPat Smith | Head of Ops | Prospect Inc.\n"
        "+1 555 0100\n",
        "Not now, try again in spring.",
    ),
    Case(
        "best-regards-block",
        "We don't need this.\n\nBest regards,\nPat Smith\nHead of Operations\nProspect Inc.\n"
        "www.prospect.example\n",
        "We don't need this.",
    ),
    Case("thanks-name", "Please unsubscribe me.\n\nThanks,\nPat\n", "Please unsubscribe me."),
    Case("cheers-inline-name", "Not interested.\n\nCheers, Pat\n", "Not interested."),
    Case("regards-alone-last", "Remove me from this list.\nRegards\n", "Remove me from this list."),
    Case(
        "mfg-de",
        "Kein Interesse.\n\nMit freundlichen Grüßen\n\nKarl Wolf\nBeispiel GmbH\n",
        "Kein Interesse.",
    ),
    Case("lg-de", "Passt gerade nicht.\n\nLG Karl\n", "Passt gerade nicht."),
    Case(
        "cordialement-fr",
        "Nous avons déjà un prestataire.\n\nCordialement,\n\nClaire Martin\nResponsable achats\n",
        "Nous avons déjà un prestataire.",
    ),
    Case(
        "bien-a-vous-fr",
        "Recontactez-moi en mars.\n\nBien à vous,\nClaire\n",
        "Recontactez-moi en mars.",
    ),
    Case(
        "saludos-es",
        "No me interesa.\n\nUn saludo,\nLucía Gómez\nDirectora de compras\n",
        "No me interesa.",
    ),
    Case(
        "atentamente-es",
        "Denme de baja.\n\nAtentamente,\nLucía\n",
        "Denme de baja.",
    ),
    Case(
        "contact-block-without-closing",
        "Not a fit for us right now.\n\nPat Smith\nHead of Operations, Prospect Inc.\n"
        "Mobile: +1 (555) 010-0100\n",
        "Not a fit for us right now.",
    ),
    Case(
        "name-alone-is-kept",
        "Not a fit for us right now.\n\nPat\n",
        "Not a fit for us right now.\n\nPat",
    ),
    Case(
        "thanks-sentence-kept",
        "Hi Sam,\nThanks, but please remove me from your list.\n\nBest,\nPat\n",
        "Hi Sam,\nThanks, but please remove me from your list.",
    ),
    Case(
        "closing-then-request-kept",
        "Hallo,\ndanke\nbitte streichen Sie mich aus dem Verteiler.\n",
        "Hallo,\ndanke\nbitte streichen Sie mich aus dem Verteiler.",
    ),
    Case(
        "postscript-kept",
        "Not now.\n\nBest regards,\nPat\nP.S. please stop calling my mobile\n",
        "Not now.\n\nP.S. please stop calling my mobile",
    ),
    Case(
        "only-a-thanks",
        "Thanks!\n",
        "Thanks!",
    ),
]

FOOTERS = [
    Case("sent-from-iphone", "Not interested\n\nSent from my iPhone\n", "Not interested"),
    Case("sent-from-ipad", "Later this year.\nSent from my iPad", "Later this year."),
    Case(
        "outlook-android",
        "Stop emailing me.\n\nSent from Outlook for Android\n",
        "Stop emailing me.",
    ),
    Case("outlook-ios", "Call me.\n\nSent from Outlook for iOS\n", "Call me."),
    Case("get-outlook-android", "Busy till May.\n\nGet Outlook for Android\n", "Busy till May."),
    Case("galaxy", "Ok.\n\nSent from my Galaxy\n", "Ok."),
    Case(
        "verizon-galaxy",
        "Not interested.\n\nSent from my Verizon, Samsung Galaxy smartphone\n",
        "Not interested.",
    ),
    Case(
        "outlook-link-footer",
        "Busy until June.\n\nGet Outlook for Android<https://aka.ms/AAb9ysg>\n",
        "Busy until June.",
    ),
    Case(
        "samsung-smartphone",
        "No thank you.\n\nSent from my Samsung Galaxy smartphone.\n",
        "No thank you.",
    ),
    Case("yahoo", "Remove me.\n\nSent from Yahoo Mail for iPhone\n", "Remove me."),
    Case("mail-windows", "Maybe in Q3.\n\nSent from Mail for Windows\n", "Maybe in Q3."),
    Case("proton", "No.\n\nSent with Proton Mail secure email.\n", "No."),
    Case("iphone-de", "Kein Interesse.\n\nVon meinem iPhone gesendet\n", "Kein Interesse."),
    Case(
        "samsung-de",
        "Bitte später.\n\nVon meinem Samsung Galaxy Smartphone gesendet.\n",
        "Bitte später.",
    ),
    Case("gesendet-von-de", "Nein.\n\nGesendet von meinem iPad\n", "Nein."),
    Case("iphone-fr", "Pas maintenant.\n\nEnvoyé de mon iPhone\n", "Pas maintenant."),
    Case(
        "outlook-fr",
        "Pas intéressé.\n\nObtenir Outlook pour Android\n",
        "Pas intéressé.",
    ),
    Case("depuis-fr", "Oui, appelez-moi.\n\nEnvoyé depuis mon mobile\n", "Oui, appelez-moi."),
    Case("iphone-es", "Ahora no.\n\nEnviado desde mi iPhone\n", "Ahora no."),
    Case(
        "outlook-es",
        "No nos interesa.\n\nObtener Outlook para iOS\n",
        "No nos interesa.",
    ),
    Case("footer-only", "Sent from my iPhone\n", ""),
]

GMAIL_HTML_INLINE = (
    '<div dir="ltr">Hi Sam,</div><br><div class="gmail_quote"><div dir="ltr" '
    'class="gmail_attr">On Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz &lt;sam@harborlight.example'
    '&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">'
    "Would you be open to a short call?</blockquote><div>No thanks, we are covered.</div>"
    '<blockquote class="gmail_quote">If not, who handles inventory?</blockquote>'
    "<div>Dana does.</div></div>"
)
OUTLOOK_WEB_EN = (
    '<html><head><style>p{margin:0}</style></head><body><div dir="ltr">'
    '<div style="font-family:Calibri">Please take me off your list.</div>'
    '<div id="Signature"><p>Pat Smith<br>Prospect Inc.</p></div></div>'
    '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
    '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri" style="font-size:11pt">'
    "<b>From:</b> Sam Ortiz &lt;sam@harborlight.example&gt;<br><b>Sent:</b> Wednesday, "
    "October 7, 2026 4:40 PM<br><b>To:</b> Pat<br><b>Subject:</b> Stock counts</font>"
    "<div>&nbsp;</div></div><div>Hi Pat, would you be open to a short call?</div></body></html>"
)
OUTLOOK_DESKTOP_ES = (
    "<html><body><div class=WordSection1><p class=MsoNormal>Escríbame en febrero, ahora "
    "estamos cerrando el año.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
    "<p class=MsoNormal>Saludos,<o:p></o:p></p><p class=MsoNormal>Lucía<o:p></o:p></p>"
    "<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
    "<p class=MsoNormal><b>De:</b> Sam Ortiz &lt;sam@harborlight.example&gt; <br>"
    "<b>Enviado el:</b> miércoles, 7 de octubre de 2026 16:40<br><b>Para:</b> Lucía<br>"
    "<b>Asunto:</b> Inventario<o:p></o:p></p></div><p class=MsoNormal>Hola Lucía, ¿tendría "
    "unos minutos?<o:p></o:p></p></div></body></html>"
)
APPLE_HTML_DE = (
    '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
    '<body dir="auto">Bitte keine Mails mehr.<div><br></div><div>Von meinem iPhone gesendet'
    '</div><div><br><blockquote type="cite">Am 07.10.2026 um 16:40 schrieb Sam Ortiz '
    '&lt;sam@harborlight.example&gt;:<br><br></blockquote></div><blockquote type="cite">'
    "<div>Hallo Herr Wolf, hätten Sie Zeit?</div></blockquote></body></html>"
)
THUNDERBIRD_HTML_FR = (
    '<html><body><p>Merci, mais ce n\'est pas pour nous.</p><div class="moz-signature">-- '
    '<br>Claire Martin</div><div class="moz-cite-prefix">Le 07/10/2026 à 16:40, Sam Ortiz a '
    'écrit&nbsp;:<br></div><blockquote type="cite"><p>Bonjour Claire,</p><blockquote '
    'type="cite"><p>older</p></blockquote></blockquote></body></html>'
)
YAHOO_HTML = (
    '<html><body><div class="yahoo-style-wrap"><div dir="ltr">Not interested.</div></div>'
    '<div id="yahoo_quoted_1" class="yahoo_quoted"><div>On Wednesday, October 7, 2026, '
    "04:40:00 PM GMT+2, Sam Ortiz &lt;sam@harborlight.example&gt; wrote:</div><div><br>"
    "</div><div>Hi Pat, would you be open to a short call?</div></div></body></html>"
)

HTML = [
    Case(
        "gmail-html-inline-answers",
        "",
        "Hi Sam,\n\nNo thanks, we are covered.\nDana does.",
        GMAIL_HTML_INLINE,
    ),
    Case("outlook-web-en-html", "", "Please take me off your list.", OUTLOOK_WEB_EN),
    Case(
        "outlook-desktop-es-html",
        "",
        "Escríbame en febrero, ahora estamos cerrando el año.",
        OUTLOOK_DESKTOP_ES,
    ),
    Case("apple-html-de", "", "Bitte keine Mails mehr.", APPLE_HTML_DE),
    Case("thunderbird-html-fr", "", "Merci, mais ce n'est pas pour nous.", THUNDERBIRD_HTML_FR),
    Case("yahoo-html", "", "Not interested.", YAHOO_HTML),
]

ALL = [*SEPARATORS, *ATTRIBUTIONS, *OUTLOOK, *FORWARDS, *INTERLEAVED, *SIGNATURES, *FOOTERS, *HTML]

# Shapes that reply parsers commonly meet, in this project's own words.
SHAPES = [
    Case(
        "mailing-list-footer",
        "Hello all\n\nHow do I rotate the audit log without a restart?\nWe run 2.3 on Debian.\n\n"
        "-Pat Smith\n\n\n_______________________________________________\nops-users mailing "
        "list\nops-users@lists.example\n",
        "Hello all\n\nHow do I rotate the audit log without a restart?\nWe run 2.3 on Debian.",
    ),
    Case(
        "old-outlook-dash-rule-bold-headers",
        "Outlook reply here\n\n\n ------------------------------\n\n *From:* Harborlight Team "
        "[mailto:team@harborlight.example]\n *Sent:* Thursday, February 09, 2026 1:36 PM\n"
        " *To:* pat@prospect.example\n *Subject:* Stock counts\n\nHello\n",
        "Outlook reply here",
    ),
    Case(
        "bold-from-value-wraps",
        "Later please.\n\n  *From:* sam@harborlight.example [mailto:\n  sam@harborlight.example]\n"
        "  *Sent:* Wednesday, June 27, 2026 3:05 PM\n  *To:* pat@prospect.example\n"
        "  *Subject:* Hello\n\nHi\n",
        "Later please.",
    ),
    Case(
        "date-to-block-without-from",
        "Fine by me.\n\nDate: Wed, 16 May 2026 00:15:02 -0600\nTo: pat@prospect.example\n\nHi\n",
        "Fine by me.",
    ),
    Case(
        "sent-from-sentence-is-kept",
        "Here is my answer\n\nSent from my desk, which is much easier than my phone.\n",
        "Here is my answer\n\nSent from my desk, which is much easier than my phone.",
    ),
    Case(
        "line-starting-with-one-is-not-an-attribution",
        "Thanks, this helps.\n\nOne question I still have:\n\nDoes it work offline?\n\n"
        "On Oct 1, 2026, at 11:55 PM, Sam Ortiz wrote:\n\n> Here is the guide.\n",
        "Thanks, this helps.\n\nOne question I still have:\n\nDoes it work offline?",
    ),
    Case(
        "on-at-line-start-is-prose",
        "On your side you only need to run:\n\n    stockctl sync\n\nThat is all.\n\n"
        "On 9 Jan 2026, at 2:47, Sam Ortiz wrote:\n\n> How do I sync?\n",
        "On your side you only need to run:\n\n    stockctl sync\n\nThat is all.",
    ),
    Case(
        "attribution-split-by-blank-and-quoted-wrote",
        "Test reply\n\nOn Tue, Apr 11, 2026 at 10:07 PM Sam Ortiz\n\n<\n"
        "mailto:sam@harborlight.example>\n> wrote:\n> Quoted pitch\n",
        "Test reply",
    ),
    Case(
        "old-gmail-wrapped-date-line",
        "Got it.\n\n2026-10-17 11:28 GMT+03:00 Harborlight <\nnoreply@harborlight.example>:\n\n"
        "> First from site\n",
        "Got it.",
    ),
    Case(
        "old-gmail-no-colon",
        "Replying ok\n2026/4/7 Sam Ortiz <sam@harborlight.example>\n\n>  Cool, thanks\n",
        "Replying ok",
    ),
    Case(
        "reply-and-attribution-share-line-no-stop",
        "reply On Wed, Apr 4, 2026 at 3:59 PM, sam@harborlight.example wrote:\n> Hi\n",
        "reply",
    ),
    Case(
        "attribution-wrote-on-third-line",
        "Test reply\n\nOn Nov 30, 2026, at 12:47 PM, Somebody <\n"
        "a1b2c3d4e5f6a7b8c9d0@mailer.harborlight.example>\nwrote:\n\nTest message\n",
        "Test reply",
    ),
    Case(
        "dashed-attribution-no-spaces",
        "Nope, not for us.\n\n------On 12/29/2026 17:32 PM, Sam Ortiz wrote-----\n\nHello there\n",
        "Nope, not for us.",
    ),
    Case(
        "dutch-op-schreef",
        "Geen interesse.\n\nOp 13-02-2026 3:18 schreef Sam Ortiz <sam@harborlight.example>:\n\n"
        "Hallo,\n",
        "Geen interesse.",
    ),
    Case(
        "reply-below-with-closing-on-one-line",
        "Test reply\n\nOn 04/19/2026 07:10 AM, Sam Ortiz wrote:\n\n>\n> Test\n\nRegards, Pat\n",
        "Test reply\n\nRegards, Pat",
    ),
    Case(
        "broken-link-inside-quote",
        "Blah\n\nOn Thursday, October 25, 2026 at 3:03 PM, Sam Ortiz wrote:\n\n>\n"
        "> Post a response by replying to this email\n>\n (http://harborlight.example/c/Yz) >\n"
        "> Harborlight (http://harborlight.example/c/Mm)\n>\n",
        "Blah",
    ),
    Case(
        "feedback-rule-with-text-is-kept",
        "Please enter your feedback below.\n\n--------- Enter Feedback Below ---------\n\n"
        "Great product, keep going.\n",
        "Please enter your feedback below.\n\n--------- Enter Feedback Below ---------\n\n"
        "Great product, keep going.",
    ),
    Case(
        "bullets-kept",
        "Two points:\n\n- we renew in June\n- the budget sits with finance\n\nTalk then.\n",
        "Two points:\n\n- we renew in June\n- the budget sits with finance\n\nTalk then.",
    ),
    Case(
        "dual-language-closing",
        "Bitte keine weiteren Anrufe.\n\nMit freundlichen Grüßen / Kind regards\nKarl Wolf\n",
        "Bitte keine weiteren Anrufe.",
    ),
    Case(
        "closing-with-place",
        "Kein Bedarf.\n\nViele Grüße aus Köln\nKarl\n",
        "Kein Bedarf.",
    ),
    Case(
        "crlf-outlook-fr",
        "Non merci.\r\n\r\nDe : Sam Ortiz\r\nEnvoyé : mercredi 7 octobre 2026 16:40\r\n"
        "À : Claire\r\nObjet : Inventaire\r\n\r\nBonjour\r\n",
        "Non merci.",
    ),
]

ALL += SHAPES

SHAPES_MORE = [
    Case(
        "capitalised-dash-list-kept",
        "Good times for me:\n- Monday\n- Tuesday Morning\n",
        "Good times for me:\n- Monday\n- Tuesday Morning",
    ),
]

ALL += SHAPES_MORE

INLINE_AND_MIXED = [
    Case(
        "attribution-same-line-fr",
        "Merci, pas intéressé. Le lun. 3 mars 2025 à 10:00, John Baker <john@harborlight.example>"
        " a écrit :\n" + PITCH_FR,
        "Merci, pas intéressé.",
    ),
    Case(
        "attribution-same-line-es",
        "No, gracias. El lun, 3 mar 2025 a las 10:00, John Baker (<john@harborlight.example>) "
        "escribió:\n" + PITCH_ES,
        "No, gracias.",
    ),
    Case(
        "closing-then-long-disclaimer",
        "Not now.\n\nBest regards,\nPat Smith\n"
        + "\n".join(f"Confidentiality notice, paragraph {i} of the legal text." for i in range(20)),
        "Not now.",
    ),
    Case(
        "bottom-post-fr-long-date",
        "Le mercredi 7 octobre 2026, Sam Ortiz <sam@harborlight.example> a écrit :\n"
        + PITCH_FR
        + "\nNon merci.\n",
        "Non merci.",
    ),
    Case(
        "mailto-in-attribution",
        "Call me.\n\nOn Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz <sam@harborlight.example<mailto:"
        "sam@harborlight.example>> wrote:\n" + PITCH_EN,
        "Call me.",
    ),
    Case(
        "samsung-fr",
        "Pas intéressée\n\n-------- Message d'origine --------\nDe : Sam Ortiz "
        "<sam@harborlight.example>\nDate : 07/10/2026 16:40 (GMT+01:00)\nÀ : Claire\n"
        "Objet : Inventaire\n\nBonjour",
        "Pas intéressée",
    ),
    Case(
        "es-closing-and-wrapped-escribio",
        "Sí, llámeme el martes.\n\nSaludos cordiales,\nLucía Gómez\n\nEl mié, 7 oct 2026 a las "
        "16:40, Sam Ortiz (<sam@harborlight.example>)\nescribió:\n\n" + PITCH_ES,
        "Sí, llámeme el martes.",
    ),
    Case(
        "contact-block-with-link",
        "No.\n\nPat Smith\nCEO\nProspect Inc.\nhttps://prospect.example\n",
        "No.",
    ),
    Case("thanks-and-name-alone-kept", "Thanks,\nPat", "Thanks,\nPat"),
    Case(
        "gmail-html-forward",
        "",
        "No thanks",
        '<div dir="ltr">No thanks</div><div><br></div><div class="gmail_quote"><div '
        'class="gmail_attr">---------- Forwarded message ---------<br>From: Sam Ortiz &lt;'
        "sam@harborlight.example&gt;<br>Date: Wed, Oct 7, 2026 at 4:40 PM<br>Subject: Stock "
        "counts<br></div><br>Hi Pat, would you be open to a call?</div>",
    ),
]

ALL += INLINE_AND_MIXED

FULL_MESSAGES = [
    Case(
        "outlook-mac-en-contact-block",
        "We're good for now, thank you!\n\nKind Regards,\n\nMark Jansen\nProcurement Lead | "
        "Jansen Logistics\nT: +31 20 555 0100 | M: +31 6 5555 0100\nwww.jansen.example\n\n\n"
        "From: Sam Ortiz <sam@harborlight.example>\nDate: Tuesday, 6 October 2026 at 09:12\n"
        "To: Mark Jansen <mark@jansen.example>\nSubject: Quick question\n\nHi Mark",
        "We're good for now, thank you!",
    ),
    Case(
        "outlook-de-full",
        "Hallo Herr Ortiz,\n\nvielen Dank für Ihre Nachricht. Aktuell besteht kein Bedarf.\n\n"
        "Mit freundlichen Grüßen\n\ni. A. Karl Wolf\n\nBeispiel GmbH | Musterstraße 1 | 10115 "
        "Berlin\nTel.: +49 30 1234567\n\n-----Ursprüngliche Nachricht-----\nVon: Sam Ortiz "
        "<sam@harborlight.example>\nGesendet: Dienstag, 6. Oktober 2026 09:12\nAn: Karl Wolf "
        "<karl@beispiel.example>\nBetreff: Kurze Frage\n\nHallo",
        "Hallo Herr Ortiz,\n\nvielen Dank für Ihre Nachricht. Aktuell besteht kein Bedarf.",
    ),
    Case(
        "apple-fr-full",
        "Bonjour,\n\nMerci de me retirer de votre liste de diffusion.\n\nBien cordialement,\n"
        "Claire Martin\n\nEnvoyé de mon iPhone\n\n> Le 6 oct. 2026 à 09:12, Sam Ortiz "
        "<sam@harborlight.example> a écrit :\n> \n> Bonjour Claire",
        "Bonjour,\n\nMerci de me retirer de votre liste de diffusion.",
    ),
    Case(
        "apple-es-unquoted-history",
        "Hola Sam,\n\nAhora mismo no es buen momento, escríbeme en marzo.\n\nUn saludo\n\n"
        "Enviado desde mi iPhone\n\nEl 6 oct 2026, a las 9:12, Sam Ortiz "
        "<sam@harborlight.example> escribió:\n\n\ufeffHola Lucía",
        "Hola Sam,\n\nAhora mismo no es buen momento, escríbeme en marzo.",
    ),
    Case(
        "outlook-2010-long-rule",
        "Please stop.\n________________________________________\nFrom: Sam Ortiz "
        "[sam@harborlight.example]\nSent: 06 October 2026 09:12\nTo: Pat\nSubject: Quick question",
        "Please stop.",
    ),
    Case(
        "triple-dash-signature",
        "Not interested.\n\n---\nPat Smith\nProspect Inc.",
        "Not interested.",
    ),
    Case(
        "ipad-apple-en-unquoted",
        "I'm the wrong contact. Try jane@prospect.example\n\nCheers\nPat\n\nSent from my iPad\n\n"
        "On 6 Oct 2026, at 09:12, Sam Ortiz <sam@harborlight.example> wrote:\n\n\ufeff\nHi Pat",
        "I'm the wrong contact. Try jane@prospect.example",
    ),
    Case(
        "gmail-mobile-html-unsubscribe-trap",
        "",
        "Not interested, thanks",
        '<div dir="auto">Not interested, thanks<div dir="auto"><br></div></div><br><div '
        'class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Oct 6, 2026, 09:12 Sam '
        'Ortiz &lt;<a href="mailto:sam@harborlight.example">sam@harborlight.example</a>&gt; '
        'wrote:<br></div><blockquote class="gmail_quote" style="margin:0 0 0 .8ex">'
        '<div dir="ltr">Hi Pat<div>Unsubscribe here</div></div></blockquote></div>',
    ),
    Case(
        "outlook-web-fr-html-no-hr-before-block",
        "",
        "Je ne suis plus chez Exemple, contactez marc@exemple.example.\n\nClaire",
        "<html><body><p>Je ne suis plus chez Exemple, contactez marc@exemple.example.</p>"
        '<p>Claire</p><div id="divRplyFwdMsg"><b>De :</b> Sam Ortiz<br><b>Envoyé :</b> mardi 6 '
        "octobre 2026 09:12<br><b>À :</b> Claire<br><b>Objet :</b> Question</div>"
        "<div>Bonjour Claire</div></body></html>",
    ),
]

FULL_MESSAGES += [
    Case(
        "reply-line-starting-like-an-attribution",
        "Le créneau de mardi me va\nSam Ortiz <sam@harborlight.example> a écrit :\n" + PITCH_FR,
        "Le créneau de mardi me va",
    ),
    Case(
        "fr-wrapped-a-ecrit",
        "Rappelez-moi lundi.\n\nLe mer. 7 oct. 2026 à 16:40, Sam Ortiz <sam@harborlight.example>"
        " a\nécrit :\n" + PITCH_FR,
        "Rappelez-moi lundi.",
    ),
]

ALL += FULL_MESSAGES

# Colleagues of a prospect sometimes answer from clients set to another language.
OTHER_LANGUAGES = [
    Case(
        "outlook-nl",
        "Niet geïnteresseerd.\n\nVan: Sam Ortiz <sam@harborlight.example>\nVerzonden: woensdag "
        "7 oktober 2026 16:40\nAan: Jan\nOnderwerp: Vraag\n\nHoi Jan",
        "Niet geïnteresseerd.",
    ),
    Case(
        "gmail-it",
        "No grazie.\n\nIl giorno mer 7 ott 2026 alle ore 16:40 Sam Ortiz "
        "<sam@harborlight.example> ha scritto:\n> Ciao",
        "No grazie.",
    ),
    Case(
        "gmail-pt",
        "Não, obrigado.\n\nEm qua., 7 de out. de 2026 às 16:40, Sam Ortiz "
        "<sam@harborlight.example> escreveu:\n> Olá",
        "Não, obrigado.",
    ),
    Case(
        "outlook-sv",
        "Nej.\n\nFrån: Sam Ortiz <sam@harborlight.example>\nSkickat: den 7 oktober 2026 16:40\n"
        "Till: Erik\nÄmne: Fråga\n\nHej",
        "Nej.",
    ),
    Case("iphone-it", "No, grazie.\n\nInviato da iPhone\n", "No, grazie."),
]

ALL += OTHER_LANGUAGES
