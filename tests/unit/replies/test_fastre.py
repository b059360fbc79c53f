"""First-letter dispatch must find exactly what each phrase pattern finds on its own."""

from __future__ import annotations

import re

import pytest

from syncd.replies.fastre import WordStartPatterns, first_chars, word_starts
from syncd.replies.lexicon import expand
from syncd.replies.lexicon.registry import LEXICONS
from syncd.replies.text import fold, fold_pattern
from tests.unit.replies import cases


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bnot\b", {"n"}),
        (r"\b(?:stop|quit) emailing", {"s", "q"}),
        (r"\b(?:(?:no|never) more|stop)\b", {"n", "s"}),
        (r"\b(?:please )?stop", {"p", "s"}),  # an optional first word, then the next
        (r"\b(?:right )?now", {"r", "n"}),
        (r"\b(?:x){2}y", {"x"}),
        (r"\b(?:maybe |\w+ )?yes", None),
        (r"(?:\A|[.!?]\s*)no\b", None),
        (r"\b\w+ handles", None),
        (r"\bsend|\bmail", {"s", "m"}),
        (r"\b(?P<n>one|two) days", {"o", "t"}),
    ],
)
def test_first_chars_reads_the_possible_first_letters(
    pattern: str, expected: set[str] | None
) -> None:
    """The first letters are read off the pattern, or None when they are not evident."""
    found = first_chars(pattern[2:] if pattern.startswith("\\b") else pattern)
    assert (set(found) if found is not None else None) == expected


CORPUS = [
    fold(text)
    for table in (
        cases.OPT_OUT,
        cases.NOT_INTERESTED,
        cases.NOT_NOW,
        cases.COMPETITOR,
        cases.INTERESTED,
        cases.REFERRAL,
        cases.OTHER,
    )
    for _, text, _ in table
]
PATTERNS = sorted(
    {
        fold_pattern(expand(p)).replace("(?P<name>", "(?:")
        for lexicon in LEXICONS.values()
        for table in lexicon.cues.values()
        for p in table
    }
)


def test_dispatch_matches_every_phrase_pattern_like_re() -> None:
    """For every phrase pattern and every fixture text, dispatch and re.finditer agree."""
    starts = [word_starts(text) for text in CORPUS]
    for pattern in PATTERNS:
        dispatched = WordStartPatterns([pattern])
        compiled = re.compile(pattern)
        for text, text_starts in zip(CORPUS, starts, strict=True):
            expected = [m.span() for m in compiled.finditer(text) if m.end() > m.start()]
            assert list(dispatched.spans(text, text_starts)) == expected, (pattern, text)


def test_back_references_are_refused() -> None:
    """Patterns with back-references cannot be split into groups and are refused."""
    with pytest.raises(ValueError, match="back-references"):
        WordStartPatterns([r"\b(?P<x>a)(?P=x)"])
