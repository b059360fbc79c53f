"""Reading fields out of a reply: addresses, vendor names, and the bounded input itself.

Every pattern here is linear in its input: an address starts where a token starts and its
parts have bounded lengths, so a 100 KB run of letters without an "@" costs one pass.
"""

from __future__ import annotations

import re

# A bounded local part that starts where a token starts, then bounded domain labels.
ADDRESS = re.compile(r"(?<![\w.+'-])[\w.+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_TRAILING = ",.;:!?)]}\"'"
# Capitalised words that follow "went with" / "nutzen" without naming a vendor.
_NOT_NAMES = frozenset(
    {
        *("i", "we", "you", "he", "she", "it", "they", "this", "that", "these", "those"),
        *("the", "a", "an", "our", "your", "their", "my", "his", "her", "another", "some"),
        *("one", "any", "someone", "somebody", "nobody", "none", "other", "others", "them"),
        *("us", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "october", "november", "december", "software", "lösung", "losung"),
        *("system", "systeme", "tool", "tools", "anbieter", "dienstleister", "partner"),
        *("firma", "unternehmen", "kunden", "produkt", "plattform", "programm", "lösungen"),
        *("ihnen", "ihrem", "ihrer", "einem", "einer", "einen", "dem", "der", "die", "das"),
        *("wir", "sie"),
    }
)
# Lower-case articles a name may follow in any supported language ("usamos a X", "con el X").
_ARTICLES = frozenset(
    {"a", "an", "the", "o", "os", "as", "el", "la", "le", "les", "los", "il", "lo", "de", "het"}
)
HTML_FACTOR = 2  # markup: an HTML body carries the same text in more characters
# Runs of blank lines (a reply of 20,000 empty lines) say nothing and slow the quote finders.
_BLANK_RUNS = re.compile(r"\n(?:[ \t]*\n){2,}")


def bounded(text: str, limit: int) -> tuple[str, bool]:
    """The opening `limit` characters, ready for the quote finders, and whether it cut.

    Blank-line runs are collapsed first; lines over `LONG_LINE` characters are wrapped at a
    space (mail clients wrap far shorter, and the quote finders slow down on such lines).
    """
    head = _BLANK_RUNS.sub("\n\n", text[: limit * 4].replace("\r\n", "\n"))
    cut = len(head) > limit or len(text) > limit * 4
    return _wrapped(head[:limit]), cut


LONG_LINE = 1_000


def _wrapped(text: str) -> str:
    if len(text) <= LONG_LINE or max(map(len, text.split("\n"))) <= LONG_LINE:
        return text
    lines: list[str] = []
    for line in text.split("\n"):
        while len(line) > LONG_LINE:
            space = line.rfind(" ", LONG_LINE // 2, LONG_LINE)
            end = space if space > 0 else LONG_LINE
            lines.append(line[:end])
            line = line[end:].lstrip(" ")
        lines.append(line)
    return "\n".join(lines)


def clean_address(raw: str) -> str | None:
    """A matched address, trailing dots and a non-alphabetic last label cut off."""
    local, _, domain = raw.lower().rstrip(".").partition("@")
    labels = domain.split(".")
    while len(labels) > 1 and not (labels[-1].isalpha() and len(labels[-1]) >= 2):
        labels.pop()
    if len(labels) < 2:
        return None
    return f"{local}@{'.'.join(labels)}"


def sender_address(sender: str) -> str:
    for match in ADDRESS.finditer(sender):
        found = clean_address(match.group())
        if found is not None:
            return found
    return ""


def vendor_name(raw: str) -> str | None:
    """The capitalised words a vendor's name is made of ("StockPilot", "Acme Corp")."""
    words: list[str] = []
    tokens = raw.split()
    # "utilizamos a Tangerino", "on the Acme suite": an article is not part of the name
    if len(tokens) > 1 and tokens[0] in _ARTICLES and tokens[1][:1].isupper():
        tokens = tokens[1:]
    for token in tokens:
        word = token.rstrip(_TRAILING)
        if not word:
            break
        if not (word[0].isupper() or word[0].isdigit() or _is_domain(word) or word in ("&", "+")):
            break
        words.append(word)
        if word != token:  # "Acme," / "Acme." ends the name
            break
    while words and words[-1] in ("&", "+"):
        words.pop()
    if not words or words[0].lower() in _NOT_NAMES:
        return None
    return " ".join(words)


def _is_domain(word: str) -> bool:
    return "." in word[1:-1] and word.replace(".", "").replace("-", "").isalnum()
