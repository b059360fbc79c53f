"""Many phrase patterns, tried only where they can start.

Python's `re` tries every alternative of `p1|p2|…|p400` at every position of the text; with
the phrase tables of several languages that dominated classification time. Nearly every phrase
pattern starts at a word boundary with a known letter (`\\bnot…`, `\\b(?:stop|quit)…`), so
`WordStartPatterns` groups them by that letter and tries a group only at the word starts
beginning with it. Patterns whose first letter cannot be read off their text are scanned the
ordinary way, so nothing is lost, only that part is slower.

Patterns anchored at a sentence start, `(?:\\A|[.!?\\n]\\s*)…`, share that anchor: it is
matched once per position for all of them, not once per pattern, and patterns anchored with
`\\A` are tried only at the start. Scanning a long reply with each of them on its own cost
more than all the rest together.

Named groups are dropped in the compiled groups (a pattern may sit in several of them);
callers that need them re-match the few hits against the original patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

_OPTIONAL = ("?", "*", "{")


@lru_cache(maxsize=2048)
def compiled(pattern: str) -> re.Pattern[str]:
    """`re.compile`, remembered for the process: `re`'s own cache holds 512 patterns, fewer than
    the phrase tables of seven languages, so every new classifier would compile them all again.
    """
    return re.compile(pattern)


_NAMED = re.compile(r"\(\?P<\w+>")
_WORD_START = re.compile(r"\b\w")


def word_starts(text: str) -> tuple[tuple[int, str], ...]:
    """(offset, first character) of every word of `text`."""
    return tuple((m.start(), m.group()) for m in _WORD_START.finditer(text))


class WordStartPatterns:
    """A set of patterns matched like their alternation, at a fraction of the cost."""

    def __init__(self, patterns: Sequence[str]) -> None:
        by_char: dict[str, list[str]] = {}
        by_mark: dict[str, list[str]] = {}
        anchored: list[str] = []
        rest: list[str] = []
        for pattern in patterns:
            if "(?P=" in pattern:
                raise ValueError(f"back-references are not supported here: {pattern!r}")
            plain = _NAMED.sub("(?:", pattern)
            first = first_chars(plain[2:]) if plain.startswith("\\b") else None
            if first is not None:
                for char in first:
                    by_char.setdefault(char, []).append(plain)
                continue
            body = _unwrapped(plain)
            sentence = _SENTENCE_START.match(body)
            if sentence is not None and not _top_alternatives(body):
                by_mark.setdefault(sentence.group(), []).append(body[sentence.end() :])
            elif body.startswith("\\A") and not _top_alternatives(body):
                anchored.append(plain)
            else:
                rest.append(plain)
        self._by_char = {char: _alternation(members) for char, members in by_char.items()}
        self._by_sentence = [
            compiled(anchor + "(?:" + "|".join(f"(?:{m})" for m in members) + ")")
            for anchor, members in by_mark.items()
        ]
        self._anchored = _alternation(anchored) if anchored else None
        self._rest = _alternation(rest) if rest else None

    def spans(self, text: str, starts: Sequence[tuple[int, str]]) -> Iterator[tuple[int, int]]:
        """Match spans: non-overlapping among word-start matches, like `re.finditer`."""
        by_char = self._by_char
        reached = -1
        for position, char in starts:
            if char in by_char and position >= reached:
                match = by_char[char].match(text, position)
                if match is not None and match.end() > match.start():
                    reached = match.end()
                    yield match.span()
        for sentence in self._by_sentence:
            for match in sentence.finditer(text):
                if match.end() > match.start():
                    yield match.span()
        if self._anchored is not None:
            match = self._anchored.match(text)
            if match is not None and match.end() > match.start():
                yield match.span()
        if self._rest is not None:
            for match in self._rest.finditer(text):
                if match.end() > match.start():
                    yield match.span()


# `(?:\A|[.!?\n]\s*)`: the start of the text or of a sentence
_SENTENCE_START = re.compile(r"\(\?:\\A\|\[(?:[^\]\\]|\\.)+\]\\s\*\)")


def _unwrapped(pattern: str) -> str:
    """`pattern` without an outer `(?:…)` that encloses all of it."""
    while pattern.startswith("(?:") and _group_end(pattern, 0) == len(pattern) - 1:
        pattern = pattern[3:-1]
    return pattern


def _top_alternatives(pattern: str) -> bool:
    return len(_split_top(pattern)) > 1


def _alternation(patterns: Sequence[str]) -> re.Pattern[str]:
    return compiled("|".join(f"(?:{p})" for p in patterns))


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of `pattern` can start with, when evident; else None."""
    alternatives = _split_top(pattern)
    if len(alternatives) > 1:
        found: set[str] = set()
        for alternative in alternatives:
            chars = first_chars(alternative)
            if chars is None:
                return None
            found |= chars
        return frozenset(found)
    i = 0
    while pattern.startswith("\\b", i):
        i += 2
    if i >= len(pattern):
        return None
    char = pattern[i]
    if char.isalnum():
        first: frozenset[str] | None = frozenset(char)
        end = i
    elif char != "(" or pattern.startswith(("(?=", "(?!", "(?<"), i):
        return None
    else:
        body = i + 3 if pattern.startswith("(?:", i) else _named_body(pattern, i)
        group_end = _group_end(pattern, i)
        if body is None or group_end is None:
            return None
        first, end = first_chars(pattern[body:group_end]), group_end
    if first is None or pattern[end + 1 : end + 2] not in _OPTIONAL:
        return first
    # an optional first item ("(?:please )?stop"): what follows it may start the match too
    rest = pattern[end + 1 :]
    if rest.startswith("{") and not rest.startswith("{0,"):
        return first
    rest = rest[rest.index("}") + 1 :] if rest.startswith("{") else rest[1:]
    rest = rest[1:] if rest.startswith("?") else rest  # a lazy quantifier
    following = first_chars(rest)
    return first | following if following is not None else None


def _named_body(pattern: str, i: int) -> int | None:
    if pattern.startswith("(?P<", i):
        close = pattern.find(">", i)
        return close + 1 if close > 0 else None
    if pattern.startswith("(?", i):
        return None
    return i + 1  # a plain capturing group


def _group_end(pattern: str, start: int) -> int | None:
    """Index of the parenthesis closing the group opened at `start`."""
    depth = 0
    i = start
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i) + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _class_end(pattern: str, start: int) -> int:
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i


def _split_top(body: str) -> list[str]:
    """The top-level alternatives of a pattern or group body."""
    parts: list[str] = []
    depth = 0
    current = 0
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(body, i) + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(body[current:i])
            current = i + 1
        i += 1
    parts.append(body[current:])
    return parts
