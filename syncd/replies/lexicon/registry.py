"""The supported languages and their phrase tables."""

from __future__ import annotations

from typing import Literal

from syncd.replies.lexicon import Lexicon, de, en, es, fr

Language = Literal["en", "de", "fr", "es"]

LEXICONS: dict[str, Lexicon] = {
    lx.code: lx for lx in (en.LEXICON, de.LEXICON, fr.LEXICON, es.LEXICON)
}
