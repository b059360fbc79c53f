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

from syncd.replies.text import fold

_MAX_CLOSING_LINE = 60
_MAX_FOOTER_LINE = 120
_MAX_BLOCK_LINES = 30  # lines of name, title, company, phone, address and disclaimer
_MAX_CONTACT_LINES = 8

_DASH_STARTS = "-_—"
# first letters of the footers below: Sent, Envoyé, Gesendet, Get, Outlook, Von, Inviato …
_FOOTER_STARTS = "SsEeGgDdOoTtVvIiWw"
# "-- ", "---", "__": a longer rule starts a quote (see `quotes`)
_DASHES = re.compile(r"(?:-{2,9}|_{2,9}|—{1,3}) ?")
_FOOTER = re.compile(
    r"(?:"
    r"(?:sent|envoy[ée]|enviado|gesendet) (?:from|via|with|using|de|depuis|[àa] partir de|"
    r"avec|desde|con|von|mit|[üu]ber|ueber|vom)\b"
    r"|(?:get|download|obtenir|t[ée]l[ée]charger|obtener|descargar) outlook "
    r"(?:for|pour|para|f[üu]r|fuer)\b"
    r"|outlook (?:f[üu]r|fuer) \w+ (?:herunterladen|beziehen)"
    r"|von meine[mr]? .{1,60} gesendet"
    r"|von (?:outlook|yahoo|gmx|web\.de)\b.{0,40} gesendet"
    # it, nl, pt, sv, da/no, pl
    r"|inviato da\b|verzonden (?:vanaf|met|van)\b|enviado do\b|skickat fr[åa]n\b"
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
]
# Longest first, so that "saludos cordiales" is one closing, not "saludos" and a name.
_CLOSING = re.compile(
    "(?P<phrase>"
    + "|".join(sorted(_CLOSINGS, key=len, reverse=True))
    + r")\b(?: ?/ ?[a-z ]{2,25}\b)?[ ,!.]*(?P<name>[^,!.]{0,40})[,!.]?",
    re.IGNORECASE,
)
_DASH_NAME = re.compile(r"-{1,2} ?[A-ZÀ-Ý][\w'.]*(?: [A-ZÀ-Ý][\w'.-]*){0,2}")
_NAME = re.compile(r"(?:[A-ZÀ-Ý][\w'.-]*)(?: [A-ZÀ-Ý][\w'.-]*){0,3}")
_PLACE = re.compile(r"^(?:aus|from|de|desde|von|vom) ", re.IGNORECASE)  # "Grüße aus Köln"
_POSTSCRIPT = re.compile(r"p\.? ?s\.?(?:\s|:|$)", re.IGNORECASE)
_CONTACT = re.compile(
    r"(?:\+?\d[\d ()./-]{6,}\d|https?://|www\.|@[\w-]+\.|\b(?:tel|phone|mobile|mob|fax|"
    r"telefon|handy|tél|tel\.|móvil|movil|portable)\b)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[.!?]$")


def strip_signature(text: str) -> str:
    """`text` without its signature, mobile footer and trailing contact block."""
    lines = text.split("\n")
    content = [i for i, line in enumerate(lines) if line.strip()]
    if not content:
        return ""
    cut = _cut_point(lines, content)
    if cut is None:
        return text
    kept = lines[:cut]
    postscript = next(
        (i for i in range(cut + 1, len(lines)) if _POSTSCRIPT.match(lines[i].strip()[:10])),
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
        if i != first and _is_closing(line) and _is_name_block(lines, content[position + 1 :]):
            return i
    if rule is not None:
        return rule
    return _contact_block(lines, content)


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
    """The start of a trailing "name / title / phone" paragraph, if the reply ends in one."""
    start = content[-1]
    while start > 0 and lines[start - 1].strip():
        start -= 1
    if start <= content[0]:
        return None  # the whole reply is one paragraph
    block = [line.strip() for line in lines[start:] if line.strip()]
    if not 2 <= len(block) <= _MAX_CONTACT_LINES:
        return None
    if _NAME.fullmatch(block[0]) is None or len(block[0].split()) > 4:
        return None
    if any(len(line) > 80 or _is_sentence(line) for line in block):
        return None
    if not any(_CONTACT.search(line) for line in block[1:]):
        return None
    return start
