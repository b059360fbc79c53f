"""Phrase tables, one module per language.

Each language module defines a `Lexicon`: the cue phrases per intent (regular expressions over
folded text, see `syncd.replies.text`), the words that negate them, the channel words of an
opt-out, and the vocabulary of dates and timing. Keeping languages apart keeps each table
reviewable by someone who speaks it; the classifier applies all enabled languages at once, so
a reply mixing languages (or too short to tell) is still understood.

Patterns may use `<<name>>` macros (see `MACROS`) for alternations shared by many of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Cue(StrEnum):
    """Kinds of phrase the classifier looks for."""

    OPT_OUT = "opt_out"  # a request to stop ("remove me"): a preceding "not" cancels it
    OPT_OUT_FIRM = "opt_out_firm"  # already negative ("don't call me"): never cancelled
    OPT_OUT_BARE = "opt_out_bare"  # a bare word ("unsubscribe") that machine footers use too
    ERASURE = "erasure"  # delete my data / GDPR objection: every channel
    # mentions removal without asking for it: newsletter footers, "remove me from the cc"
    NOT_A_REQUEST = "not_a_request"
    HOSTILE = "hostile"
    NOT_INTERESTED = "not_interested"
    NOT_NOW = "not_now"
    INTERESTED = "interested"
    COMPETITOR = "competitor"  # another vendor, unnamed
    COMPETITOR_NAMED = "competitor_named"  # has a (?P<name>...) group
    REFERRAL = "referral"
    GATEKEEPER = "gatekeeper"
    ABSENCE = "absence"  # out-of-office wording


# Cues that a negation in front of them (or, in German, just after) cancels.
NEGATABLE: frozenset[Cue] = frozenset(
    {
        Cue.OPT_OUT,
        Cue.OPT_OUT_BARE,
        Cue.ERASURE,
        Cue.INTERESTED,
        Cue.COMPETITOR,
        Cue.COMPETITOR_NAMED,
        Cue.REFERRAL,
        Cue.GATEKEEPER,
        Cue.ABSENCE,
    }
)


class ChannelWord(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    LINKEDIN = "linkedin"
    ALL = "all"  # "contact", "communications", "leave me alone": every channel


NAME = r"(?P<name>[\w.&+'/-]+(?: [\w.&+'/-]+){0,3})"
# A name that starts a sentence: no full stop inside, except a domain's ("Monday.com").
SUBJECT_NAME = r"(?P<name>[\w&+'/-]+(?:\.[a-z]{2,4})?(?: [\w&+'/-]+(?:\.[a-z]{2,4})?){0,2})"

MACROS: dict[str, str] = {
    "name": NAME,
    "subject_name": SUBJECT_NAME,
    "dont": r"(?:don'?t|do not|dont)",
    "email": r"(?:e-?mails?|mails?)",
    "weekday_en": (
        r"(?:monday|tuesday|wednesday|thursday|friday|mon|tue|tues|wed|thu|thur|thurs|fri)"
    ),
    "weekday_de": r"(?:montag|dienstag|mittwoch|donnerstag|freitag)",
    "weekday_fr": r"(?:lundi|mardi|mercredi|jeudi|vendredi)",
    "weekday_es": r"(?:lunes|martes|miercoles|jueves|viernes)",
}

_MACRO = re.compile(r"<<(\w+)>>")


def expand(pattern: str) -> str:
    """Replace `<<name>>` macros by their alternation."""
    return _MACRO.sub(lambda m: MACROS[m.group(1)], pattern)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Everything language-specific the classifier and the date finder need."""

    code: str
    stopwords: frozenset[str]
    cues: Mapping[Cue, tuple[str, ...]]
    channels: Mapping[ChannelWord, tuple[str, ...]]
    negators: tuple[str, ...]  # cancel a cue that follows within a few words
    negators_after: tuple[str, ...] = ()  # cancel a cue they follow (German "nicht")
    scope_breakers: tuple[str, ...] = ()  # end a negation's reach ("not interested, please")
    auto_subjects: tuple[str, ...] = ()  # subject openings of auto-replies
    reply_prefixes: tuple[str, ...] = ()  # "Re:", "AW:": stripped before reading a subject
    # dates
    months: Mapping[str, int] = field(default_factory=dict)
    weekdays: Mapping[str, int] = field(default_factory=dict)  # Monday = 0
    numbers: Mapping[str, int] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)  # -> day/week/month/quarter/year
    ordinals: Mapping[str, int] = field(default_factory=dict)  # quarters: "first" -> 1
    seasons: Mapping[str, int] = field(default_factory=dict)  # -> month the season starts
    parts: Mapping[str, str] = field(default_factory=dict)  # -> early/mid/late
    tomorrow: tuple[str, ...] = ()
    timing: tuple[str, ...] = ()  # stated-timing templates, see syncd.replies.dates
    return_cues: tuple[str, ...] = ()  # words an out-of-office return date follows
    range_cues: tuple[str, ...] = ()  # "from X to": the date after the cue is the return
    back_after: tuple[str, ...] = ()  # "am 14. September wieder im Büro": after the date
    past_markers: tuple[str, ...] = ()  # words before a timing that put it in the past


def words(text: str) -> frozenset[str]:
    """A word set written as one space-separated string."""
    return frozenset(text.split())


def alternation(words: Mapping[str, object] | tuple[str, ...]) -> str:
    """A regex alternation of literal words, longest first so that "sept" beats "sep"."""
    keys = sorted(words, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(k) for k in keys) + ")"
