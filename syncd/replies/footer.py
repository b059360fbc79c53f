"""The legal and marketing footer a sender's own mail system appends below their reply.

A company stamps every outgoing mail with a confidentiality notice, a privacy (GDPR, DSGVO,
RGPD) notice, "please consider the environment", register data or its newsletter's
"if you no longer wish to receive …, click here to unsubscribe". Read as the prospect's words,
that footer turns "sounds good, call me Tuesday" into an opt-out and drops a prospect who fits.

A footer is found from its first line: one that speaks *about* the mail or its recipients in
the impersonal, conditional voice of boilerplate ("If you are not the intended recipient",
"To unsubscribe from our newsletter", "Wenn Sie keine weiteren E-Mails … erhalten möchten",
"Ce message est confidentiel", "Si no desea recibir", "Wilt u onze nieuwsbrief niet meer
ontvangen?"). A bare request ("Unsubscribe", "please remove me") is never a footer line.

The prospect's own request always wins: the footer starts below the last line that speaks in
the first person singular or opens with a request to stop, and never at the reply's first
line. Only the last `MAX_FOOTER_LINES` lines are read, each up to `MAX_LINE` characters, with
patterns free of nested repetition, so the cost is bounded whatever the reply holds.
"""

# ruff: noqa: E501 -- a pattern reads best on one line; split, its alternatives hide

from __future__ import annotations

import re
from collections.abc import Callable

from syncd.replies.text import fold, fold_pattern

__all__ = [
    "MAX_FOOTER_LINES",
    "footer_start",
    "is_footer_line",
    "is_link_row",
    "is_personal_line",
    "is_request_line",
]

MAX_FOOTER_LINES = 40  # lines above the end where a footer may start
MAX_LINE = 400  # characters of a line read

# The first line of a footer. Written with accents; matched on folded text.
_CUES = (
    # English: confidentiality, recipients, marketing, privacy, register, print, scanners
    r"\bconfidential(?:ity)? (?:notice|note|information|statement|disclaimer)\b",
    r"\b(?:privileged (?:and|&) confidential|strictly confidential|private (?:and|&) confidential)\b",
    r"\b(?:the |this )?(?:e-?mail|message|communication|transmission)s? (?:and any (?:files|attachments?) )?"
    r"(?:transmitted with it )?(?:is|are|may|contains?|including)\b.{0,60}\b(?:confidential|privileged|intended)",
    r"^\W{0,5}(?:confidential|privileged|disclaimer|legal notice|important notice)\b",
    r"\bintended (?:solely |only |exclusively )?(?:for the )?(?:use of the )?(?:addressee|recipient)",
    r"\bif you (?:are not|have received|received|believe you (?:have )?received)\b",
    r"\b(?:you are|you're) receiving this\b|\byou received this (?:e-?mail|message) because\b",
    r"\bif you (?:no longer|do not|don't|would (?:rather|prefer) not) (?:wish|want|like) to (?:receive|hear)\b",
    r"\bif you would (?:rather|prefer) not (?:to )?receive\b",
    # "To unsubscribe, click", not a person's own story: "we managed to unsubscribe from the old tool"
    r"(?<!managed )(?<!tried )(?<!wanted )(?<!decided )(?<!able )(?<!had )(?<!need )(?<!going )(?<!want )\b(?:to|click here to|click to) (?:unsubscribe|opt[- ]?out|stop receiving|update your (?:preferences|subscription))\b",
    r"\bclick (?:here|below)\b.{0,40}\b(?:unsubscribe|opt[- ]?out|preferences|stop receiving)\b",
    r"\b(?:unsubscribe|opt[- ]?out) (?:here|below|at any time|anytime)\b",
    r"\bmanage (?:your )?(?:email )?(?:preferences|subscriptions?)\b|\bview (?:it |this )?in (?:your )?browser\b",
    r"\bprivacy (?:notice|policy|statement)\s*:|\b(?:we|our company) process(?:es)? (?:your )?personal data\b",
    r"\b(?:consider the environment|think before you print|before printing this)\b",
    r"\bfollow us on\b|\[cid:",
    r"\bregistered (?:in england|in scotland|office|number|address)\b|\bcompany (?:registration|reg\.?|number|no\.?)\b",
    r"\b(?:scanned|checked) for (?:viruses|malware)\b",
    r"\bthis (?:e-?mail|message) (?:was sent|has been sent) (?:to|from|by)\b",
    # German
    r"\bdiese (?:e-?mail|nachricht|mitteilung)\b.{0,80}\b(?:vertraulich|rechtlich geschützt|irrtümlich)",
    r"\b(?:nicht der (?:richtige|beabsichtigte) (?:adressat|empfänger)|irrtümlich erhalten|versehentlich erhalten)\b",
    r"\bdas unerlaubte kopieren\b|\bunbefugte weitergabe\b",
    r"\bwenn sie (?:diese|unseren|unsere|keine|künftig keine)\b.{0,60}\b(?:erhalten|abbestellen|abmelden)\b",
    r"\bnewsletter (?:abbestellen|abmelden)\b|\bvom newsletter abmelden\b",
    r"\bdatenschutz(?:hinweis|erklärung|information|informationen)\w*\b|\bhinweise zum datenschutz\b",
    r"\b(?:geschäftsführer(?:in)?|geschäftsführung|vorstand|aufsichtsrat(?:svorsitzende[r]?)?|sitz der gesellschaft|registergericht|amtsgericht)\s*:|\bhrb \d",
    r"\b(?:ust-?id(?:nr)?|umsatzsteuer-id|steuernummer)\b",
    r"\bbitte denken sie an die umwelt\b|\bbevor sie diese e-?mail ausdrucken\b",
    # French
    r"\bce (?:message|courriel|mail|e-?mail)\b.{0,80}\b(?:confidentiel|destinataire|exclusive)",
    r"\bsi vous (?:avez reçu|n'êtes pas|ne souhaitez plus|ne désirez plus|souhaitez ne plus)\b",
    r"\b(?:pour|afin de) (?:vous désabonner|vous désinscrire|ne plus recevoir)\b",
    r"\bvous ne (?:souhaitez|désirez) plus recevoir\b|\bdésinscrivez-vous\b|\bdésabonnez-vous\b",
    r"\bconformément (?:au rgpd|à la (?:loi|réglementation))\b|\bvous disposez d'un droit\b",
    r"\bpensez à l'environnement\b|\bavant d'imprimer\b|\bmentions légales\b|\brcs \w+|\bsiret\b",
    # Spanish
    r"\baviso (?:de confidencialidad|legal|de privacidad)\b|\bcláusula de confidencialidad\b",
    r"\beste (?:mensaje|correo|e-?mail)\b.{0,80}\b(?:confidencial|destinatario|exclusivamente)",
    r"\bsi (?:usted )?(?:no es el destinatario|ha recibido este|no desea recibir|desea darse de baja)\b",
    r"\b(?:protección de datos|política de privacidad)\s*:|\bde acuerdo con (?:el rgpd|la (?:lopd|normativa))\b",
    r"\bpuede ejercer (?:sus|los) derechos\b|\bhaga clic aquí\b|\bantes de imprimir\b",
    # Dutch
    r"\b(?:dit|deze) (?:e-?mail(?:bericht)?|bericht)\b.{0,80}\b(?:vertrouwelijk|geadresseerde|bestemd)",
    r"\b(?:indien|als) u (?:dit bericht|deze e-?mail) (?:per vergissing|ten onrechte|abusievelijk)\b",
    r"\bwilt u (?:onze|deze|geen)\b.{0,40}\b(?:meer ontvangen|afmelden)\b|\bklik hier om (?:u|je) af te melden\b",
    r"\bafmelden voor (?:onze|deze)\b|\baan dit bericht kunnen geen rechten\b|\bkvk(?:-nummer)?\s*:?\s*\d",
    r"\bdenk aan het milieu\b|\bdisclaimer\s*:",
)
_CUE = re.compile("|".join(fold_pattern(c) for c in _CUES))

# The sender speaking: first person singular.
_PRONOUN = re.compile(
    fold_pattern(
        r"\b(?:i|i'm|i've|i'd|i'll|me|my|myself|ich|mich|mir|mein\w*|j'\w+|moi|yo|ik|mij|mijn)\b"
    )
)
# A request to stop that names the sender or the contact, anywhere in a line ("…, stop
# emailing us"): never footer wording.
_ASKS = re.compile(
    fold_pattern(
        r"\b(?:stop|quit|cease) (?:e-?mailing|mailing|calling|phoning|contacting|sending|writing|messaging|spamming|bothering)\b"
        r"|\b(?:remove|delete|take|erase) (?:us|our (?:address|details|names?|company|team))\b"
        r"|\b(?:do ?n[o']?t|never) (?:ever )?(?:e-?mail|contact|call|phone|write to|message) us\b"
        r"|\bhören sie auf\b|\b(?:nehmen|entfernen|streichen|löschen) sie (?:uns|unsere)\b|\bkontaktieren sie uns nicht\b"
        r"|\b(?:arrêtez|cessez) de\b|\bne nous (?:contactez|écrivez|appelez|envoyez)\b|\bretirez-nous\b"
        r"|\bdejen de\b|\bno nos (?:contacten|escriban|llamen|envíen|manden)\b|\b(?:elimínen|bórren)nos\b"
        r"|\bstop (?:met|nu)\b|\b(?:haal|verwijder) ons\b|\bbel ons niet\b|\bmail ons niet\b"
    )
)
# A request to stop at a line's start ("Unsubscribe", "Bitte austragen"): the sender's, unless
# the line is footer wording or carries a link ("Unsubscribe here: https://…").
_REQUEST_START = re.compile(
    fold_pattern(
        r"^\W{0,5}(?:please |pls |kindly |bitte |por favor,? |graag )?"
        r"(?:stop|quit|cease|remove|delete|unsubscribe|take (?:me|us) off|"
        r"(?:don't|do not|never) (?:ever )?(?:e-?mail|contact|call|phone|write|message|send|bother)|"
        r"keine (?:\w+ )?(?:e-?mails?|mails|anrufe|werbung|nachrichten|newsletter)|"
        r"nicht mehr|austragen|abmelden|entfernen|löschen|hören sie|"
        r"ne plus|arrêtez|cessez|retirez|supprimez|désinscri\w*|désabonne\w*|"
        r"no (?:me|nos|vuelva|envíe|manden)|dejen|denme|elimínen\w*|bórren\w*|baja|"
        r"geen (?:\w+ )?(?:e-?mails?|mails|berichten|telefoontjes|nieuwsbrie\w+)|"
        r"niet meer|haal|verwijder|uitschrijven|afmelden)\b"
    )
)
_LINK = re.compile(r"https?://|www\.|\w\.\w{2,24}/")
# Words of a request to stop, for a first-person line ("I'd like to be removed").
_STOP_WORDS = re.compile(
    fold_pattern(
        r"\b(?:unsubscrib\w*|remov\w*|opt(?:ed|ing)?[- ]?out|stop|take \w+ off|"
        r"abmelden|abbestell\w*|austragen|entfern\w*|lösch\w*|"
        r"désinscri\w*|désabonn\w*|retir\w*|supprim\w*|baja|elimin\w*|"
        r"uitschrijven|afmelden|verwijder\w*)\b"
    )
)
_POSTSCRIPT = re.compile(r"^\W{0,5}p\.? ?s\b", re.IGNORECASE)

# A row of links ("Unsubscribe | Manage preferences | Privacy"): no one writes a request so.
_LINK_ROW = re.compile(r"[^|•·]{1,40}(?:[|•·][^|•·]{1,40}){1,8}")
_LINK_WORDS = re.compile(
    fold_pattern(
        r"\b(?:unsubscribe|preferences|view in browser|privacy|impressum|datenschutz|abmelden|"
        r"désinscription|désabonnement|confidentialité|baja|privacidad|afmelden|uitschrijven)\b"
    )
)


def is_link_row(line: str) -> bool:
    """Whether `line` is a footer's row of links, one of them to unsubscribe or to privacy."""
    folded = fold(line.strip()[:MAX_LINE])
    return _LINK_ROW.fullmatch(folded) is not None and _LINK_WORDS.search(folded) is not None


def is_footer_line(line: str) -> bool:
    """Whether `line` opens (or belongs to) a legal or marketing footer."""
    return _CUE.search(fold(line.strip()[:MAX_LINE])) is not None


def is_personal_line(line: str) -> bool:
    """Whether `line` speaks for the sender (first person, a postscript) or asks to stop.

    A line that starts like a request but is footer wording ("Afmelden voor onze nieuwsbrief?
    Klik hier.", "Unsubscribe here: https://…") is not the sender's.
    """
    folded = fold(line.strip()[:MAX_LINE])
    if _PRONOUN.search(folded) or _ASKS.search(folded) or _POSTSCRIPT.match(folded):
        return True
    return _REQUEST_START.search(folded) is not None and not _boilerplate(folded)


def is_request_line(line: str) -> bool:
    """Whether `line` asks to stop, in so many words: below a signature it is still new text.

    A footer's row of links ("Unsubscribe | Preferences") is not a request.
    """
    folded = fold(line.strip()[:MAX_LINE])
    if _ASKS.search(folded) or (_PRONOUN.search(folded) and _STOP_WORDS.search(folded)):
        return True
    return _REQUEST_START.search(folded) is not None and not _boilerplate(folded)


def _boilerplate(folded: str) -> bool:
    return (
        _CUE.search(folded) is not None
        or _LINK.search(folded) is not None
        or (_LINK_ROW.fullmatch(folded) is not None and _LINK_WORDS.search(folded) is not None)
    )


def footer_start(
    lines: list[str], content: list[int], neutral: Callable[[str], bool] = lambda _: False
) -> int | None:
    """The index of the line where the trailing footer begins, or None.

    `content` lists the indexes of the non-blank lines; `neutral` lines ("Sent from my
    iPhone") neither start a footer nor speak for the sender. The footer is the part from its
    first cued line to the end, below every personal line and never at the reply's first line.
    """
    if len(content) < 2:
        return None
    window = content[max(1, len(content) - MAX_FOOTER_LINES) :]
    start = None
    for i in reversed(window):
        line = lines[i]
        if neutral(line.strip()):
            continue
        if is_link_row(line):
            start = i
            continue
        if is_personal_line(line):
            break
        if is_footer_line(line):
            start = i
    return start
