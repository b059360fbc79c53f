"""The supported languages and their phrase tables."""

from __future__ import annotations

from typing import Literal

from syncd.replies.lexicon import Lexicon, de, en, es, fr, it, nl, pt

Language = Literal["en", "de", "fr", "es", "nl", "it", "pt"]

_ALL = (en.LEXICON, de.LEXICON, fr.LEXICON, es.LEXICON, nl.LEXICON, it.LEXICON, pt.LEXICON)
LEXICONS: dict[str, Lexicon] = {lx.code: lx for lx in _ALL}
