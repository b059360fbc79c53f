"""The end of a reply that is not part of what the sender said: signature and mobile footer.

Cut points, tried from the top:

- the "-- " line (RFC 3676) and mobile footers ("Sent from my iPhone", "Get Outlook for iOS",
  "Von meinem iPhone gesendet", "Envoyé de mon iPhone", "Enviado desde mi iPhone" …);
- a closing line ("Best regards,", "Mit freundlichen Grüßen", "Cordialement", "Saludos,"),
  alone or with a name, followed by nothing but a short name block;
- a trailing contact block: a name line, then lines with a phone number, address or link.

A sentence that merely starts like a closing ("Thanks, but please remove me") is never cut,
and neither is the only line of a reply. A "P.S." below the signature is new text and stays.
Every pattern is matched on one line of bounded length.
"""

from __future__ import annotations

import re

from syncd.replies.footer import footer_start, is_request_line
from syncd.replies.text import fold

_MAX_CLOSING_LINE = 60
_MAX_FOOTER_LINE = 120
_MAX_BLOCK_LINES = 30  # lines of name, title, company, phone, address and disclaimer
_MAX_CONTACT_LINES = 8
_MAX_TAIL_LINES = 200  # lines below a cut searched for a postscript or a request

_DASH_STARTS = "-_—"
# first letters of the footers below: Sent, Envoyé, Gesendet, Get, Outlook, Von, Inviato …
_FOOTER_STARTS = "SsEeGgDdOoTtVvIiWwHh"
# "-- ", "---", "__": a longer rule starts a quote (see `quotes`)
_DASHES = re.compile(r"(?:-{2,9}|_{2,9}|—{1,3}) ?")
_FOOTER = re.compile(
    r"(?:"
    r"(?:sent|envoy[ée]|enviado|gesendet) (?:from|via|with|using|de|depuis|[àa] partir de|"
    r"avec|desde|con|von|mit|[üu]ber|ueber|vom)\b"
    r"|(?:get|download|obtenir|t[ée]l[ée]charger|obtener|descargar) outlook "
    r"(?:for|pour|para|f[üu]r|fuer)\b"
    r"|outlook (?:f[üu]r|fuer|voor|per|para) \w+ "
    r"(?:herunterladen|beziehen|downloaden|scaricare|baixar)"
    r"|holen sie sich outlook\b"
    r"|von meine[mr]? .{1,60} gesendet"
    r"|von (?:outlook|yahoo|gmx|web\.de)\b.{0,40} gesendet"
    # it, nl, pt, sv, da/no, pl
    r"|inviato da\b|(?:verzonden|verstuurd) (?:vanaf|met|van|via)\b|enviado do\b|skickat fr[åa]n\b"
    r"|sendt fra\b|wys(?:ł|l)ane z\b"
    r")",
    re.IGNORECASE,
)
_CLOSINGS = [
    # English
    r"(?:best|kind|warm|warmest|many|with kind|with best|with warm|kindest) (?:regards|wishes)",
    *("best", "regards", "cheers", "thanks", "thank you", "thanks again", "thanks so much"),
    *("many thanks", "thx", "ty", "sincerely", "yours sincerely", "sincerely yours"),
    *("yours truly", "yours", "all the best", "take care", "talk soon", "br", "rgds", "kr"),
    *("respectfully", "warmly", "best,? thanks", "thanks,? best", "with thanks"),
    *(r"thanks (?:and|&) (?:best )?regards", "thanks in advance"),
    # German
    r"mit (?:freundlichen|besten|herzlichen|lieben) gr(?:u|ue)(?:ss|s)en",
    r"(?:freundliche|viele|beste|liebe|herzliche|schone|schoene|sonnige) gr(?:u|ue)(?:ss|s)e",
    *(r"gru(?:ss|s)", r"gr(?:u|ue)(?:ss|s)e", "lg", "vg", "mfg", "danke", "vielen dank"),
    *("besten dank", r"danke und gru(?:ss|s)", r"danke und gr(?:u|ue)(?:ss|s)e"),
    r"danke ?& ?gru(?:ss|s)",
    # French
    *("cordialement", "bien cordialement", "tres cordialement", "bien a vous", "bien a toi"),
    *("salutations", "meilleures salutations", "sinceres salutations", "merci"),
    *("merci beaucoup", "merci d'avance", "bonne journee", "belle journee", "bonne soiree"),
    *("amicalement", "bien amicalement", "a bientot", "respectueusement", "bonne continuation"),
    # Spanish
    *("saludos", "un saludo", "saludos cordiales", "un cordial saludo", "cordiales saludos"),
    *("atentamente", "gracias", "muchas gracias", "un abrazo", "cordialmente", "slds", "atte"),
    *("saludos y gracias", "un saludo cordial"),
    # Dutch
    *(r"(?:met )?(?:vriendelijke|hartelijke|beste|fijne|warme) groet(?:en)?", "mvg", "mvgr"),
    *("groet", "groeten", "groetjes", "gr", "grt", "hartelijke dank", "alvast bedankt"),
    *("bedankt", "dank je", "dank u", "dank je wel", "dank u wel", "fijne dag", "fijn weekend"),
    # Italian, Portuguese
    *("cordiali saluti", "distinti saluti", "saluti", "un saluto", "grazie", "buona giornata"),
    *("atenciosamente", "cumprimentos", "melhores cumprimentos", "obrigado", "obrigada"),
    *("abracos", "abraco", "um abraco"),
]
# Longest first, so that "saludos cordiales" is one closing, not "saludos" and a name.
_CLOSING = re.compile(
    "(?P<phrase>"
    + "|".join(sorted(_CLOSINGS, key=len, reverse=True))
    + r")\b(?: ?/ ?[a-z ]{2,25}\b)?[ ,!.]*(?P<name>[^,!.]{0,40})[,!.]?",
    re.IGNORECASE,
)
_DASH_NAME = re.compile(r"-{1,2} ?[A-ZÀ-Ý][\w'.]*(?: [A-ZÀ-Ý][\w'.-]*){0,2}")
# "~ Jenna", "--Mark", "— Liz" above a name block: an informal sign-off without "-- "
_SIGN_OFF = re.compile(r"(?:~|-{1,2}|—|–) ?[A-ZÀ-Ý][\w'.]*(?: [A-ZÀ-Ý][\w'.-]*){0,2},?")
_BULLETS = "-~—–*•"
_NAME = re.compile(r"(?:[A-ZÀ-Ý][\w'.-]*)(?: [A-ZÀ-Ý][\w'.-]*){0,3}")
_PLACE = re.compile(r"^(?:aus|from|de|desde|von|vom) ", re.IGNORECASE)  # "Grüße aus Köln"
_POSTSCRIPT = re.compile(r"p\.? ?s\.?(?:\s|:|$)", re.IGNORECASE)
_CONTACT = re.compile(
    r"(?:\+?\d[\d ()./-]{6,}\d|https?://|www\.|@[\w-]+\.|\b(?:tel|phone|mobile|mob|fax|"
    r"telefon|handy|tél|tel\.|móvil|movil|portable)\b)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[.!?]$")
_SENTENCE_END = re.compile(r"[.!?)]$")
# a job title on a signature line ("COO, Redline Couriers", "Leiter Einkauf")
_TITLE = re.compile(
    r"\b(?:CEO|CFO|COO|CTO|CIO|CMO|VP|SVP|EVP|MD|[Pp]resident|[Ff]ounder|[Oo]wner|[Pp]artner|"
    r"[Dd]irector|[Mm]anager|[Hh]ead of|[Ll]ead|[Oo]fficer|[Aa]ssistant|[Cc]oordinator|"
    r"[Aa]dministrator|[Cc]onsultant|[Cc]ontroller|[Bb]uyer|[Ss]ecretary|[Rr]eceptionist|"
    r"Geschäftsführer(?:in)?|Leiter(?:in)?|Inhaber(?:in)?|Prokurist(?:in)?|Assistenz|Einkauf|"
    r"[Dd]irect(?:eur|rice)|[Rr]esponsable|[Gg]érant(?:e)?|[Aa]ssistante|[Gg]erente|[Jj]efe|"
    r"[Dd]irecti(?:e)?secretaresse|[Ee]igenaar|[Oo]fficemanager|[Bb]edrijfsleider|[Ii]nkoper)\b"
)


def strip_signature(text: str) -> str:
    """`text` without its signature, mobile footer, legal footer and trailing contact block."""
    lines = text.split("\n")
    content = [i for i, line in enumerate(lines) if line.strip()]
    if not content:
        return ""
    footer = footer_start(lines, content, neutral=_is_footer)
    if footer is not None:
        lines = lines[:footer]
        content = [i for i in content if i < footer]
    cut = _cut_point(lines, content)
    if cut is None:
        return "\n".join(lines) if footer is not None else text
    kept = lines[:cut]
    # a postscript, or a request to stop written below the signature, is new text
    postscript = next(
        (
            i
            for i in range(cut + 1, min(len(lines), cut + 1 + _MAX_TAIL_LINES))
            if _POSTSCRIPT.match(lines[i].strip()[:10])
            or (lines[i].strip() and is_request_line(lines[i]))
        ),
        None,
    )
    if postscript is not None:
        kept += ["", *lines[postscript:]]
    return "\n".join(kept)


def _cut_point(lines: list[str], content: list[int]) -> int | None:
    rule = _first_rule_or_footer(lines)
    first = content[0]
    # a closing has at most a short block below it: only the last lines can be one
    tail = max(0, len(content) - _MAX_BLOCK_LINES - 1)
    for position in range(tail, len(content)):
        i = content[position]
        if rule is not None and rule <= i:
            return rule
        line = lines[i].strip()
        # "-Pat" under the reply, unless it ends a dash list
        if (
            position == len(content) - 1
            and i != first
            and _DASH_NAME.fullmatch(line)
            and not lines[content[position - 1]].lstrip().startswith("-")
        ):
            return i
        if i != first and _is_sign_off(lines, content, position):
            return i
        if i != first and _is_closing(line) and _is_name_block(lines, content[position + 1 :]):
            return i
    if rule is not None:
        return rule
    return _contact_block(lines, content)


def _is_sign_off(lines: list[str], content: list[int], position: int) -> bool:
    """ "~ Jenna" or "--Mark" with a name block below, not an item of a dash or tilde list."""
    line = lines[content[position]].strip()
    if len(line) > _MAX_CLOSING_LINE or line[:1] not in "~-—–" or not _SIGN_OFF.fullmatch(line):
        return False
    neighbours = (content[position - 1], *content[position + 1 : position + 2])
    if any(lines[n].lstrip()[:1] in _BULLETS for n in neighbours):
        return False
    return _is_name_block(lines, content[position + 1 :])


def _first_rule_or_footer(lines: list[str]) -> int | None:
    """The first "-- " line or mobile footer, found without a pattern call per line."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or len(stripped) > _MAX_FOOTER_LINE:
            continue
        if stripped[0] in _DASH_STARTS:
            if _DASHES.fullmatch(stripped):
                return i
        elif stripped[0] in _FOOTER_STARTS and _is_footer(stripped):
            return i
    return None


def _is_footer(line: str) -> bool:
    """ "Sent from my iPhone", not "Sent from my desk, much easier than my phone."."""
    return _FOOTER.match(line) is not None and len(line.split()) <= 8


def _is_closing(line: str) -> bool:
    if len(line) > _MAX_CLOSING_LINE:
        return False
    folded = fold(line)
    match = _CLOSING.fullmatch(folded)
    if match is None:
        return False
    # the words after the closing phrase, as written (folding may change lengths, not words)
    words = line.split()
    name = " ".join(words[len(folded[: match.start("name")].split()) :]).strip(" ,!.")
    return not name or _NAME.fullmatch(_PLACE.sub("", name)) is not None


def _is_name_block(lines: list[str], after: list[int]) -> bool:
    """Whether the lines below a closing are a signature, not more of the reply."""
    if len(after) > _MAX_BLOCK_LINES:
        return False
    if not after:
        return True
    first = lines[after[0]].strip()
    words = len(first.split())
    if len(first) > _MAX_CLOSING_LINE or words > 6 or first.endswith(("?", "!")):
        return False
    return not (first.endswith(".") and words > 3) and not _POSTSCRIPT.match(first[:10])


def _is_sentence(line: str) -> bool:
    """A line of prose, not a title like "Head of Operations, Prospect Inc."."""
    return line.endswith(("?", "!")) or (
        len(line.split()) > 6 and _SENTENCE.search(line) is not None
    )


def _contact_block(lines: list[str], content: list[int]) -> int | None:
    """The start of a trailing "name / title / phone" block, if the reply ends in one.

    The block is its own paragraph, or the last lines of the reply's only paragraph right
    below a finished sentence; there it must carry no address, which may be a referral's.
    A block introduced by a colon ("Please talk to:") is the reply's, not a signature.
    """
    start = content[-1]
    while start > 0 and lines[start - 1].strip():
        start -= 1
    if start > content[0]:
        above = lines[max(i for i in content if i < start)].rstrip()
        return start if _is_contact_block(lines, start) and not above.endswith(":") else None
    first = max(start + 1, content[-1] - _MAX_CONTACT_LINES + 2)
    for j in range(first, content[-1]):
        if (
            _SENTENCE_END.search(lines[j - 1].rstrip())
            and _is_contact_block(lines, j)
            and not any("@" in line for line in lines[j:])
        ):
            return j
    return None


def _is_contact_block(lines: list[str], start: int) -> bool:
    block = [line.strip() for line in lines[start:] if line.strip()]
    if not 2 <= len(block) <= _MAX_CONTACT_LINES:
        return False
    if _NAME.fullmatch(block[0]) is None or len(block[0].split()) > 4:
        return False
    if any(len(line) > 80 or _is_sentence(line) for line in block):
        return False
    return any(_CONTACT.search(line) or _TITLE.search(line) for line in block[1:])
