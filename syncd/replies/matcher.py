"""Finding cue phrases in folded text, with negation, exclusions and opt-out channels.

A cue that a negation governs does not count: "I'm not asking you to remove me" is no opt-out
and "not interested" is no interest. The negation must sit in the same clause, at most four
words before the cue, with no "please" in between ("not interested please remove me" is an
opt-out). German also negates after the verb ("das interessiert uns nicht").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from syncd.model import ALL_CHANNELS, Channel, Intent
from syncd.replies.fastre import WordStartPatterns, compiled
from syncd.replies.lexicon import NEGATABLE, ChannelWord, Cue, Lexicon, expand
from syncd.replies.lexicon.registry import Language
from syncd.replies.text import Folded, fold_pattern, literal_pattern

# Cues an admin's phrases for an intent are added to.
INTENT_CUES: dict[Intent, Cue] = {
    Intent.OPT_OUT: Cue.OPT_OUT,
    Intent.OUT_OF_OFFICE: Cue.ABSENCE,
    Intent.INTERESTED: Cue.INTERESTED,
    Intent.NOT_NOW: Cue.NOT_NOW,
    Intent.NOT_INTERESTED: Cue.NOT_INTERESTED,
    Intent.COMPETITOR: Cue.COMPETITOR,
    Intent.REFERRAL: Cue.REFERRAL,
}
# Read in every supported language, enabled or not: a missed opt-out is a legal problem.
OPT_OUT_CUES = (Cue.OPT_OUT, Cue.OPT_OUT_FIRM, Cue.OPT_OUT_BARE, Cue.ERASURE, Cue.NOT_A_REQUEST)
_SPECIFIC = {
    ChannelWord.EMAIL: Channel.EMAIL,
    ChannelWord.PHONE: Channel.PHONE,
    ChannelWord.LINKEDIN: Channel.LINKEDIN,
}
_NEGATION_REACH = 80  # characters: comfortably more than four words
_CHANNEL_REACH = 200  # characters: an opt-out's clause; bounded so many hits stay linear
# Where an opt-out's channel words stop: "don't call me, e-mail is fine" is about the phone.
_CHANNEL_SCOPE_END = re.compile(
    r"[.!?;:,()\n]|\s-+\s|\b(?:but|however|instead|aber|sondern|stattdessen|mais|plutot|pero|"
    r"sino|en cambio)\b"
)


@dataclass(frozen=True, slots=True)
class Hit:
    """A cue found in the text (folded offsets) and the language table it came from."""

    cue: Cue
    start: int
    end: int
    language: str
    name: tuple[int, int] | None = None  # competitor name span, for COMPETITOR_NAMED


@dataclass(frozen=True, slots=True)
class _Table:
    """All patterns of one cue: one fast scanner, and per language the patterns themselves."""

    cue: Cue
    scanner: WordStartPatterns
    by_language: tuple[tuple[str, re.Pattern[str]], ...]


class Matcher:
    """Compiled cue tables for a set of languages (opt-out tables for `opt_out_lexicons`)."""

    def __init__(
        self,
        lexicons: Sequence[Lexicon],
        opt_out_lexicons: Sequence[Lexicon],
        extra: Mapping[Language, Mapping[Intent, Sequence[str]]] | None = None,
    ) -> None:
        enabled = {lx.code for lx in lexicons}
        everyone = list({lx.code: lx for lx in (*lexicons, *opt_out_lexicons)}.values())
        collected: dict[Cue, dict[str, list[str]]] = {}
        for lx in everyone:
            for cue, patterns in lx.cues.items():
                if cue in OPT_OUT_CUES or lx.code in enabled:
                    collected.setdefault(cue, {}).setdefault(lx.code, []).extend(
                        fold_pattern(expand(p)) for p in patterns
                    )
        for language, by_intent in (extra or {}).items():
            for intent, phrases in by_intent.items():
                collected.setdefault(INTENT_CUES[intent], {}).setdefault(language, []).extend(
                    literal_pattern(p) for p in phrases
                )
        self._tables = [
            _Table(
                cue,
                WordStartPatterns([p for group in by_lang.values() for p in group]),
                tuple((lang, _numbered(group)) for lang, group in by_lang.items()),
            )
            for cue, by_lang in collected.items()
        ]
        self._negated_before = _tail_pattern(lx.negators for lx in everyone)
        self._breakers = _union(b for lx in everyone for b in lx.scope_breakers)
        after = [p for lx in everyone for p in lx.negators_after]
        self._negated_after = (
            compiled(r"\A\s*(?:\S+\s+){0,2}?(?:" + "|".join(map(fold_pattern, after)) + ")")
            if after
            else None
        )
        self._channel_words = {
            word: _union(p for lx in everyone for p in lx.channels.get(word, ()))
            for word in ChannelWord
        }

    def scan(self, text: Folded, cues: Iterable[Cue] | None = None) -> list[Hit]:
        """Cue hits in text order, without negated ones and mentions that are no request."""
        wanted = set(cues) if cues is not None else None
        hits: list[Hit] = []
        for table in self._tables:
            if wanted is not None and table.cue not in wanted:
                continue
            negatable = table.cue in NEGATABLE
            for start, end in table.scanner.spans(text.text, text.words):
                if negatable and self._negated(text, start, end):
                    continue
                language, name = _attribute(table, text.text, start)
                hits.append(Hit(table.cue, start, end, language, name))
        excluded = [h for h in hits if h.cue is Cue.NOT_A_REQUEST]
        if excluded:
            hits = [h for h in hits if not _overlaps_exclusion(h, excluded)]
        hits = sorted(set(hits), key=lambda h: (h.start, -h.end, h.cue))
        return hits

    def _negated(self, text: Folded, start: int, end: int) -> bool:
        # a negation reaches four words: a bounded window keeps long clauses linear
        before = text.text[max(text.clause_start(start), start - _NEGATION_REACH) : start]
        match = self._negated_before.search(before)
        if match and not (self._breakers and self._breakers.search(match.group("gap"))):
            return True
        if self._negated_after is not None:
            after = text.text[end : min(text.clause_end(end), end + _NEGATION_REACH)]
            return self._negated_after.match(after) is not None
        return False

    def channels(self, hit: Hit, text: Folded) -> frozenset[Channel]:
        """The channels an opt-out is about: its words and the rest of its clause."""
        if hit.cue is Cue.ERASURE:
            return ALL_CHANNELS
        limit = min(len(text.text), hit.end + _CHANNEL_REACH)
        scope_end = _CHANNEL_SCOPE_END.search(text.text, hit.end, limit)
        window = text.text[hit.start : scope_end.start() if scope_end else limit]
        found = {w for w, rx in self._channel_words.items() if rx is not None and rx.search(window)}
        specific = frozenset(_SPECIFIC[w] for w in found if w in _SPECIFIC)
        if specific:
            return specific
        if ChannelWord.ALL in found:
            return ALL_CHANNELS
        return frozenset({Channel.EMAIL})


def _numbered(patterns: Sequence[str]) -> re.Pattern[str]:
    """One language's patterns of a cue; `name` groups numbered so that each is unique."""
    count = iter(range(len(patterns)))
    renamed = [re.sub(r"\(\?P<name>", lambda _: f"(?P<name{next(count)}>", p) for p in patterns]
    return compiled("|".join(f"(?:{p})" for p in renamed))


def _attribute(table: _Table, text: str, start: int) -> tuple[str, tuple[int, int] | None]:
    """Which language's pattern matched at `start`, and the vendor name span if it has one."""
    for language, pattern in table.by_language:
        match = pattern.match(text, start)
        if match is not None:
            for key, value in match.groupdict().items():
                if value is not None and key.startswith("name"):
                    return language, match.span(key)
            return language, None
    return table.by_language[0][0], None


def _overlaps_exclusion(hit: Hit, excluded: list[Hit]) -> bool:
    if hit.cue not in (Cue.OPT_OUT, Cue.OPT_OUT_BARE):
        return False
    return any(x.start < hit.end and hit.start < x.end for x in excluded)


def _tail_pattern(negator_sets: Iterable[tuple[str, ...]]) -> re.Pattern[str]:
    negators = "|".join(fold_pattern(n) for group in negator_sets for n in group)
    # the greedy lead makes the negation found the one nearest to the cue
    return compiled(rf".*(?:{negators})(?P<gap>(?:\s+\S+){{0,4}})\s*$")


def _union(patterns: Iterable[str]) -> re.Pattern[str] | None:
    collected = [fold_pattern(p) for p in patterns]
    return compiled("|".join(f"(?:{p})" for p in collected)) if collected else None
