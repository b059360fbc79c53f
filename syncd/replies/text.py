"""Folded text: the form every phrase pattern is matched against.

Prospects write "désabonnez", "desabonnez", "Grüße", "Gruesse" and "don’t" with a typographic
apostrophe; matching all of them with one pattern needs a canonical form. Folding lower-cases,
drops diacritics and normalises quotes, dashes and spaces, while keeping a map back to the
original characters so that evidence is quoted exactly as the prospect wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

from syncd.replies.fastre import word_starts

_SPECIAL = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "\u2019": "'",
    "\u2018": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200b": "",
    "\ufeff": "",
    "\u00ad": "",
}

# Clause boundaries: punctuation, or a conjunction that starts a new statement. Negation
# never reaches across one ("not interested - and please unsubscribe me").
_BOUNDARY = re.compile(
    r"[.!?;:,()\[\]\n]+|\s-+\s|"
    r"\b(?:and|but|however|although|though|und|aber|doch|sondern|deshalb|et|mais|donc|"
    r"y|pero|sino|aunque)\b"
)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    special = _SPECIAL.get(char)
    if special is not None:
        return special
    lowered = char.lower()
    if lowered.isascii():
        return lowered
    special = _SPECIAL.get(lowered)
    if special is not None:
        return special
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped or lowered


def fold(text: str) -> str:
    """The folded form of `text` (see the module docstring)."""
    if text.isascii():
        return text.lower().replace("`", "'")
    return "".join(_fold_char(c) for c in text)


@dataclass(frozen=True, slots=True)
class Folded:
    """A text in folded form plus the map from folded offsets back to the original."""

    original: str
    text: str
    offsets: tuple[int, ...] | None  # folded index -> original index; None: identical offsets
    separators: tuple[tuple[int, int], ...]  # clause separators as folded (start, end) spans
    words: tuple[tuple[int, str], ...]  # (offset, first character) of every word

    def quote(self, start: int, end: int) -> str:
        """The original characters behind the folded span [start, end)."""
        span = (start, end) if self.offsets is None else (self.offsets[start], self.offsets[end])
        # a sentence-start cue begins at the previous sentence's full stop: not part of it
        return self.original[span[0] : span[1]].strip().lstrip(".!?,;:").strip().rstrip(".,;:")

    def clause_start(self, pos: int) -> int:
        """Where the clause containing folded offset `pos` begins."""
        i = bisect_right(self.separators, (pos, len(self.text) + 1)) - 1
        while i >= 0 and self.separators[i][1] > pos:
            i -= 1
        return self.separators[i][1] if i >= 0 else 0

    def clause_end(self, pos: int) -> int:
        """Where the clause containing folded offset `pos` ends (its separator's start)."""
        i = bisect_left(self.separators, (pos, -1))
        return self.separators[i][0] if i < len(self.separators) else len(self.text)


def folded(original: str) -> Folded:
    """Fold `original`, remembering where every folded character came from."""
    if original.isascii() and "`" not in original:
        text = original.lower()
        offsets: tuple[int, ...] | None = None
    else:
        parts: list[str] = []
        index: list[int] = []
        for i, char in enumerate(original):
            out = _fold_char(char)
            parts.append(out)
            index.extend([i] * len(out))
        index.append(len(original))
        text = "".join(parts)
        offsets = tuple(index)
    separators = tuple((m.start(), m.end()) for m in _BOUNDARY.finditer(text))
    return Folded(original, text, offsets, separators, word_starts(text))


_UMLAUTS = {"ä": "(?:ae|a)", "ö": "(?:oe|o)", "ü": "(?:ue|u)"}


def fold_pattern(pattern: str) -> str:
    """Turn a phrase pattern written with accents into one that matches folded text.

    German umlauts also match their two-letter spelling ("zurück" matches "zurueck").
    Accented letters must not appear inside character classes.
    """
    out: list[str] = []
    for char in pattern:
        if char in _UMLAUTS:
            out.append(_UMLAUTS[char])
        elif char.isascii():
            out.append(char)
        else:
            out.append(_fold_char(char))
    return "".join(out)


def literal_pattern(phrase: str) -> str:
    """A configured plain phrase as a pattern: case, accents and spacing insensitive."""
    words = fold(phrase).split()
    body = r"\s+".join(re.escape(w) for w in words)
    lead = r"\b" if words and words[0][:1].isalnum() else ""
    tail = r"\b" if words and words[-1][-1:].isalnum() else ""
    return f"{lead}{body}{tail}"
