"""Where the quoted history of a reply starts, line by line.

Mail clients mark the start of the message being answered in a handful of ways: a separator
("-----Original Message-----", "-----Ursprüngliche Nachricht-----", "---------- Forwarded
message ---------", Outlook's underscore rule, Android's "---- Sam wrote ----"), an attribution
("On … wrote:", "Am … schrieb …:", "Le … a écrit :", "El … escribió:", also wrapped over
several lines or written at the end of the reply's last line), an Outlook header block
("From:/Sent:/To:/Subject:" in English, German, French and Spanish) or `>` quoting.

Every pattern here is matched against one line at a time, and only against its first
`LINE_WINDOW` characters (or its last, for an attribution at the end of a line), so the cost
of a reply grows linearly with its length whatever it contains: no pattern can run across
line breaks or backtrack over a whole message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

LINE_WINDOW = 400  # no separator, attribution or header line is longer than this
_WRAP_LINES = 4  # clients wrap a long attribution over at most four lines

_SAME_WIDTH = {"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\t": " ", "\u2019": "'"}
_SPACES = str.maketrans({**_SAME_WIDTH, "*": None})
_SPACES_KEEP_WIDTH = str.maketrans(_SAME_WIDTH)

# any leading white space, as `str.lstrip` sees it ("\u2003> old" is an indented quote)
_QUOTED = re.compile(r"[^\S\n]*>")
# Outlook's underscore rule; older Outlook and mailing lists draw it with dashes
_RULE = re.compile(r"_{10,}|-{10,}")
_SEPARATOR = re.compile(
    r"-[-=~ ]*(?:original(?:[- ]?message| ?-?nachricht)|reply message|"
    r"forwarded message|urspr(?:ü|ue|u)ngliche nachricht|antwort ?nachricht|"
    r"weitergeleitete nachricht|message d'origine|message original|"
    r"message (?:transf[ée]r[ée]|r[ée]exp[ée]di[ée])|mensaje original|mensaje reenviado|"
    r"respuesta mensaje|mensagem original|"
    # other languages mail clients speak: it, nl, pt, sv, da/no, pl, cs
    r"messaggio originale|messaggio inoltrato|oorspronkelijk bericht|doorgestuurd bericht|"
    r"mensagem encaminhada|ursprungligt meddelande|vidarebefordrat meddelande|"
    r"oprindelig meddelelse|videresendt meddelelse|opprinnelig melding|"
    r"wiadomo(?:ść|sc) oryginalna|p(?:ů|u)vodn(?:í|i) zpr(?:á|a)va)[-=~ :]*",
    re.IGNORECASE,
)
_FORWARD_INTRO = re.compile(
    r"(?:begin forwarded message|anfang der weitergeleiteten (?:nachricht|e-mail)|"
    r"d[ée]but du message (?:r[ée]exp[ée]di[ée]|transf[ée]r[ée])|"
    r"inicio del mensaje reenviado|mensaje reenviado|forwarded message|"
    r"inizio messaggio inoltrato|begin doorgestuurd bericht|in(?:í|i)cio da mensagem "
    r"reencaminhada|vidarebefordrat brev) ?:?",
    re.IGNORECASE,
)
_VERB = (
    r"(?:wrote|writes|sent|said|schrieb|a [ée]crit|escribi[óo]|schreef|ha scritto|escreveu|"
    r"skrev|napisa(?:ł|l)a?|napsal[a]?|написала?)"
)
# Android and Zoho: "---- Sam Ortiz wrote ----", "---- On Mon, 3 Mar 2025 Sam wrote ----"
_DASHED_ATTRIBUTION = re.compile(rf"-{{2,}} ?[^- ].{{0,300}}?\b{_VERB} ?-{{2,}}", re.IGNORECASE)
# The end of an attribution: the verb, maybe the writer after it (German), a colon.
_ATTRIBUTION_END = re.compile(
    r"\b(?:(?:wrote|writes|sent|said|a [ée]crit|escribi[óo]|ha scritto|escreveu|napisa(?:ł|l)a?|"
    r"napsal[a]?|написала?) ?:|"
    r"(?:schrieb|schreef|skrev)\b[^:]{0,200}:|wrote)$",
    re.IGNORECASE,
)
# Where an attribution starts: "On", "Am", "Le", "El" (and "Op", "Il", "Em", "Den", "W dniu",
# "Dne" of other languages' clients) as the first word.
_ATTRIBUTION_START = re.compile(r"(?:On|Am|Le|El|Op|Il|Em|Den|W dniu|Dne)\b", re.IGNORECASE)
_INLINE_START = re.compile(r"(?<= )(?:On|Am|Le|El|Op) ")
_DATE_START = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b")
_OLD_GMAIL = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.{0,200}@[^ ]{1,100}>? ?:?")
_DATE_OR_ADDRESS = re.compile(r"\d|@")
_SENTENCE_END = re.compile(r"[.!?]$")

_FROM_KEYS = frozenset({"from", "von", "de", "van", "da", "od", "från", "fra"})
_DATE_KEYS = frozenset(
    {"sent", "date", "gesendet", "datum", "envoyé", "envoye", "enviado", "enviado el", "fecha"}
    | {"verzonden", "inviato", "data", "skickat", "sendt", "wysłano", "odesláno"}
)
_TO_KEYS = frozenset({"to", "an", "à", "a", "para", "aan", "do", "till", "til", "komu"})
_HEADER_KEY = re.compile(
    r"(from|von|de|van|da|sent|date|to|cc|bcc|subject|reply-to|gesendet|datum|an|betreff|"
    r"antwort an|envoy[ée]|[àa]|objet|r[ée]pondre [àa]|enviado(?: el)?|fecha|para|asunto|"
    r"responder a|"
    # it, nl, pt, sv, da/no, pl, cs
    r"od|från|fra|verzonden|inviato|data|skickat|sendt|wysłano|odesláno|aan|do|till|til|"
    r"komu|onderwerp|oggetto|assunto|ämne|emne|temat|předmět|kopie|cc) ?:",
    re.IGNORECASE,
)
MAX_CANDIDATES = 2_000
_MIN_SEPARATOR = 10  # the shortest rule or separator line
_HEADER_WINDOW = 8  # lines in which a header block shows its second key


class Kind(Enum):
    """What starts the quoted part."""

    QUOTED = "quoted"  # a `>` line: unquoted answers may follow it
    ATTRIBUTION = "attribution"  # "On … wrote:": `>` lines, and maybe answers, follow
    HARD = "hard"  # separator or header block: everything below is the old message


@dataclass(frozen=True, slots=True)
class Marker:
    """The first line of a quote and the number of lines it takes."""

    kind: Kind
    line: int
    length: int = 1
    keep: str = ""  # the reply text before an attribution written on the same line


def canon(line: str) -> str:
    """The form a line is matched in: window-limited, spaces unified, emphasis dropped."""
    return line[:LINE_WINDOW].translate(_SPACES).strip()


def is_quoted(line: str) -> bool:
    return _QUOTED.match(line[:LINE_WINDOW]) is not None


def is_hard_separator(line: str) -> bool:
    """A line that starts the old message on its own (no header block needed)."""
    text = canon(line)
    if not text:
        return False
    return bool(
        _RULE.fullmatch(text)
        or _SEPARATOR.fullmatch(text)
        or _FORWARD_INTRO.fullmatch(text)
        or _DASHED_ATTRIBUTION.fullmatch(text)
    )


def header_block_at(lines: list[str], i: int) -> int:
    """Lines taken by an Outlook header block starting at line `i` (0 when there is none).

    A block is two or more different header keys within a few lines, among them the sender
    ("From:", "Von:", "De :") or both a date and a recipient: a single "To: whom it may
    concern" is no block. A long value may wrap onto the next line.
    """
    first = _HEADER_KEY.match(canon(lines[i]))
    if first is None:
        return 0
    keys = {_key(first.group(1))}
    end = i + 1
    for j in range(i + 1, min(len(lines), i + _HEADER_WINDOW)):
        text = canon(lines[j])
        if not text:
            if len(keys) >= 2:
                break
            continue
        match = _HEADER_KEY.match(text)
        if match is not None:
            key = _key(match.group(1))
            if key in keys:
                break  # a block names each key once
            keys.add(key)
            end = j + 1
    if len(keys) >= 2 and (keys & _FROM_KEYS or (keys & _DATE_KEYS and keys & _TO_KEYS)):
        return end - i
    return 0


def _key(raw: str) -> str:
    return raw.lower()


def attribution_at(lines: list[str], i: int) -> Marker | None:
    """An attribution line (or lines) starting at line `i`, or at the end of that line."""
    text = canon(lines[i])
    if not text:
        return None
    if text[:1].isdigit() and _OLD_GMAIL.fullmatch(text):
        return Marker(Kind.ATTRIBUTION, i)
    if text.endswith((":", "wrote", "Wrote")):
        raw = lines[i].rstrip()
        tail_start = max(0, len(raw) - LINE_WINDOW)
        tail = raw[tail_start:].translate(_SPACES_KEEP_WIDTH)
        if _ATTRIBUTION_END.search(tail) is None:
            return None
        starts_as_one = _ATTRIBUTION_START.match(text) is not None
        if starts_as_one and _is_attribution(text):
            return Marker(Kind.ATTRIBUTION, i)
        inline = None if starts_as_one else _inline_attribution(tail)
        if inline is not None:
            return Marker(Kind.ATTRIBUTION, i, keep=raw[: tail_start + inline].rstrip())
        if _is_attribution(text):
            return Marker(Kind.ATTRIBUTION, i)
        return None
    return _wrapped_attribution(lines, i, text)


def _is_attribution(text: str) -> bool:
    """Whether a whole line ending in an attribution verb is an attribution."""
    if len(text) > 350:
        return False
    if _ATTRIBUTION_START.match(text):
        return _DATE_OR_ADDRESS.search(text) is not None or len(text.split()) >= 3
    # "Sam Ortiz <sam@harborlight.example> wrote:" with no leading "On"
    return "@" in text or (len(text.split()) <= 8 and _DATE_OR_ADDRESS.search(text) is not None)


def _inline_attribution(tail: str) -> int | None:
    """Offset in `tail` of an attribution that ends the line after the reply's own words."""
    for start in _INLINE_START.finditer(tail):
        if start.start() == 0:
            continue
        attribution = tail[start.start() :]
        if len(attribution) <= 350 and _DATE_OR_ADDRESS.search(attribution):
            return start.start()
    return None


def _wrapped_attribution(lines: list[str], i: int, text: str) -> Marker | None:
    """An attribution that a client wrapped over up to three lines (blank ones aside)."""
    dated = _DATE_START.match(text) is not None
    if not (dated or _ATTRIBUTION_START.match(text)) or _SENTENCE_END.search(text):
        return None
    if not any(char.isdigit() for char in text):  # a wrapped attribution starts with its date
        return None
    if len(text) > 300:
        return None
    joined = text
    taken = 1
    for j in range(i + 1, min(len(lines), i + _WRAP_LINES + 2)):
        following = canon(lines[j])
        if not following:
            continue
        quoted = following.startswith(">")
        if quoted:  # a client that quotes the attribution's last line ("> wrote:")
            following = following.lstrip("> ")
        if _ATTRIBUTION_START.match(following) or taken >= _WRAP_LINES:
            return None
        joined = f"{joined} {following}"
        taken += 1
        if len(joined) > 400:
            return None
        if _ATTRIBUTION_END.search(joined) is not None or (dated and _OLD_GMAIL.fullmatch(joined)):
            if _DATE_OR_ADDRESS.search(joined) is None:
                return None
            return Marker(Kind.ATTRIBUTION, i, length=j - i + 1)
        if quoted or _SENTENCE_END.search(following):
            return None
    return None


# A line that may hold a marker: one starting with a quote, rule, date or attribution word,
# or holding a colon, or ending like an attribution. Found in one pass over the text, so a
# long reply of ordinary lines costs no per-line work in Python.
_CANDIDATE = re.compile(
    r"^[^\S\n]*(?:[-_=~*>\d]|(?:on|am|le|el|op|il|em|den|w dniu|dne|begin|anfang|"
    r"d[ée]but|inicio|mensaje|forwarded)\b)|:[^\n]*$|(?:wrote|--)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


def candidate_lines(text: str) -> list[int]:
    """Indexes of the lines of `text` (split at "\\n") that may hold a quote marker."""
    found: list[int] = []
    line = 0
    position = 0
    for match in _CANDIDATE.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        if not found or found[-1] != line:
            found.append(line)
    return found


def first_marker(lines: list[str], candidates: list[int]) -> Marker | None:
    """The first quote marker among the first `MAX_CANDIDATES` candidate lines.

    A reply with more candidates above its quote (thousands of lines with a colon or a
    leading dash) is a pasted log, not prose: below the limit only a `>`-quoted line, which
    costs one pattern match to see, still starts the quote. The old message is never taken
    for the sender's words, however long the log above it.
    """
    for i in candidates[:MAX_CANDIDATES]:
        marker = marker_at(lines, i)
        if marker is not None:
            return marker
    for i in candidates[MAX_CANDIDATES:]:
        if is_quoted(lines[i]):
            return Marker(Kind.QUOTED, i)
    return None


def marker_at(lines: list[str], i: int) -> Marker | None:
    """The quote marker starting at line `i`, if any."""
    line = lines[i]
    stripped = line.lstrip()
    if not stripped:
        return None
    if stripped[0] == ">":
        return Marker(Kind.QUOTED, i)
    if len(stripped) >= _MIN_SEPARATOR and _may_separate(stripped) and is_hard_separator(line):
        return Marker(Kind.HARD, i)
    if ":" in stripped[:30]:
        block = header_block_at(lines, i)
        if block:
            return Marker(Kind.HARD, i, length=block)
    return attribution_at(lines, i)


def _may_separate(stripped: str) -> bool:
    """A cheap test that lets most lines skip the separator patterns."""
    return stripped[0] in "-_=~*" or stripped[:1].lower() in "abdfimrv"
