"""Dates in replies: the out-of-office return date and the stated follow-up timing.

A general date parser (dateparser) finds dates everywhere, including in words that merely look
like one ("Je" parsed as a date); here a date only counts when a cue anchors it: "until",
"back on", "bis", "jusqu'au", "hasta" for return dates, and timing phrases ("in six months",
"next quarter", "after our audit in March", "im nächsten Quartal") for follow-ups. Everything is
relative to the reply's own Date header, so the result is reproducible.

Timing templates in the lexicons use named groups that say how to resolve them:
`n`+`unit` (offset), `yonly` (a bare year), `half` (six months), `next` (start of the next
week / month / quarter / year, with an optional `part`), `month` (+ `day`, `year`, `part`,
`after`), `season`, `q` / `qord` (quarter), `yearend`, `newyear`, `winter` / `summer` /
`holidays`, `weekday`, `vague` (timing without a date, e.g. "next fiscal year"), and `dx_*`
(an explicit date, see `_date_pattern`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from dateutil.relativedelta import relativedelta

from syncd.replies.fastre import WordStartPatterns, compiled
from syncd.replies.lexicon import Lexicon, alternation
from syncd.replies.text import Folded, fold, fold_pattern

V = TypeVar("V")

_MAX_AHEAD = timedelta(days=3 * 366)  # a stated timing further out than this is not a plan
_RETURN_AHEAD = timedelta(days=400)
_RANGE_LINK = r"\s*(?:-|to|until|till|through|and|bis|au|al|a|hasta|y|et)\s*"


@dataclass(frozen=True, slots=True)
class Timing:
    """A stated timing: where it was found and the date it resolves to (None when vague)."""

    day: date | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Vocab:
    months: dict[str, int]
    weekdays: dict[str, int]
    numbers: dict[str, int]
    units: dict[str, str]
    ordinals: dict[str, int]
    seasons: dict[str, int]
    parts: dict[str, str]
    tomorrow: frozenset[str]

    def lookup(self, table: Mapping[str, object], word: str) -> object | None:
        key = " ".join(word.split()).rstrip(".")
        found = table.get(key)
        if found is None:  # German written without umlauts: "maerz", "naechsten"
            found = table.get(key.replace("ae", "a").replace("oe", "o").replace("ue", "u"))
        return found


def _variants(word: str) -> Iterable[str]:
    yield fold(word)
    spelled = word.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    if spelled != word:
        yield fold(spelled)


def _table(*maps: Mapping[str, V]) -> dict[str, V]:
    out: dict[str, V] = {}
    for mapping in maps:
        for word, value in mapping.items():
            for variant in _variants(word):
                out.setdefault(variant, value)
    return out


def _vocab(lexicons: Sequence[Lexicon]) -> _Vocab:
    return _Vocab(
        months=_table(*(lx.months for lx in lexicons)),
        weekdays=_table(*(lx.weekdays for lx in lexicons)),
        numbers=_table(*(lx.numbers for lx in lexicons)),
        units=_table(*(lx.units for lx in lexicons)),
        ordinals=_table(*(lx.ordinals for lx in lexicons)),
        seasons=_table(*(lx.seasons for lx in lexicons)),
        parts=_table(*(lx.parts for lx in lexicons)),
        tomorrow=frozenset(fold(w) for lx in lexicons for w in lx.tomorrow),
    )


def _alt(words: Iterable[str]) -> str:
    return fold_pattern(alternation(tuple(dict.fromkeys(words))))


def _date_pattern(months: str, weekdays: str, *, relative: str | None) -> str:
    """An explicit date; with `relative`, also a bare weekday or "tomorrow" (return dates)."""
    absolute = (
        rf"(?:(?P<dx_wd>{weekdays})\.?,?\s+)?(?:(?:the|le|el|den|dem|am)\s+)?(?:"
        rf"(?P<dx_d1>\d{{1,2}})(?:st|nd|rd|th|er|o|\.)?\s*(?:of\s+|de\s+)?(?P<dx_m1>{months})\b\.?"
        rf"(?:,?\s*(?:de\s+)?(?P<dx_y1>20\d\d))?"
        rf"|(?P<dx_m2>{months})\.?\s+(?:the\s+)?(?P<dx_d2>\d{{1,2}})(?:st|nd|rd|th)?\b"
        rf"(?:,?\s*(?P<dx_y2>20\d\d))?"
        rf"|(?P<dx_y3>20\d\d)-(?P<dx_m3>\d{{1,2}})-(?P<dx_d3>\d{{1,2}})"
        rf"|(?P<dx_a>\d{{1,2}})(?P<dx_sep>[./])(?P<dx_b>\d{{1,2}})"
        rf"(?:(?P=dx_sep)(?P<dx_y4>(?:20)?\d\d))?(?![\d/]|\.\d|\s*(?:uhr|h\b|am\b|pm\b|:))"
        r")"
    )
    if relative is None:
        return absolute
    return (
        rf"(?:{absolute}|(?P<dx_wdonly>{weekdays})\b|(?P<dx_tom>{relative})\b"
        rf"|(?:the\s+)?(?P<dx_dayonly>\d{{1,2}})(?:st|nd|rd|th)\b"
        rf"|(?P<dx_monly>{months})\b(?:\s+(?P<dx_ymonly>20\d\d))?)"
    )


class DateFinder:
    """Finds return dates and stated timings in folded text for a set of languages."""

    def __init__(self, lexicons: Sequence[Lexicon]) -> None:
        self._vocab = _vocab(lexicons)
        weekdays = _alt(w for lx in lexicons for w in lx.weekdays)
        months = _alt(m for lx in lexicons for m in lx.months)
        full_months = _alt(m for lx in lexicons for m in lx.months if len(m) > 3 or m == "mai")
        tomorrow = _alt(w for lx in lexicons for w in lx.tomorrow)
        self._date = _date_pattern(months, weekdays, relative=None)
        self._rdate = _date_pattern(months, weekdays, relative=tomorrow)
        macros = {
            "NUM": rf"(?:{_alt(w for lx in lexicons for w in lx.numbers)}|\d{{1,3}})",
            "UNIT": _alt(w for lx in lexicons for w in lx.units),
            "PART": _alt(w for lx in lexicons for w in lx.parts),
            "MONTH": rf"{months}(?!\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?!\d))",
            "MONTH_FULL": full_months,
            "SEASON": _alt(w for lx in lexicons for w in lx.seasons),
            "ORD": _alt(w for lx in lexicons for w in lx.ordinals),
            "WEEKDAY": weekdays,
            "DATE": self._date,
        }

        def expand(template: str) -> str:
            return re.sub(r"<<(\w+)>>", lambda m: macros[m.group(1)], fold_pattern(template))

        templates = [t for lx in lexicons for t in lx.timing]
        templates.sort(key=lambda t: "<<DATE>>" not in t)  # explicit dates win overlaps
        self._timing = [compiled(expand(t)) for t in templates]
        # most replies state no timing at all: one cheap pass decides whether to look closer
        self._any_timing = WordStartPatterns(
            [p.pattern.replace("(?P=dx_sep)", "[./]") for p in self._timing]
        )
        cues = "|".join(fold_pattern(c) for lx in lexicons for c in lx.return_cues)
        fillers = (
            r"(?:(?:on|the|le|la|el|am|zum|dem|den|del|de|dia|next|nachsten|prochain|"
            r"einschliesslich|inklusive)\s+){0,4}"
        )
        self._return = compiled(rf"\b(?:{cues})\s+{fillers}{self._rdate}")
        opens = "|".join(fold_pattern(c) for lx in lexicons for c in lx.range_cues)
        first = (
            rf"(?:the\s+|le\s+|el\s+|dem\s+)?(?:{months}\.?\s+)?\d{{1,2}}(?:st|nd|rd|th|er|\.)?"
            rf"(?:\s+(?:of\s+|de\s+)?{months}\.?)?(?:,?\s*20\d\d)?"
        )
        self._range = compiled(rf"\b(?:{opens})\s+{first}{_RANGE_LINK}{fillers}{self._rdate}")
        backs = "|".join(fold_pattern(c) for lx in lexicons for c in lx.back_after)
        self._back_after = (
            compiled(rf"{self._date}\.?\s+(?:[\w'-]+\s+){{0,3}}?(?:{backs})\b") if backs else None
        )
        self._negated = re.compile(r"\b(?:not|nicht|pas|no|nunca|never|jamais)\s+$")
        self._until = re.compile(r"(?:until|till|before|bis|vor|avant|jusqu|hasta|antes)\b")
        pasts = "|".join(fold_pattern(p) for lx in lexicons for p in lx.past_markers)
        self._past = compiled(rf"\b(?:{pasts})\b(?:\s+\S+){{0,3}}\s*$") if pasts else None

    # ---- return dates -------------------------------------------------------------------

    def return_date(self, text: Folded, sent: date, language: str | None) -> Timing | None:
        """The date an out-of-office notice says the person is back, if it states one.

        Of several ("from 3 to 14 August, back on 17 August") the latest is the return.
        """
        found: list[Timing] = []
        patterns = [(self._range, True), (self._return, True)]
        if self._back_after is not None:
            patterns.append((self._back_after, False))
        for pattern, relative in patterns:
            for match in pattern.finditer(text.text):
                day = self._explicit(match, sent, language, relative=relative)
                if day is not None and sent <= day <= sent + _RETURN_AHEAD:
                    found.append(Timing(day, match.start(), match.end()))
        return max(found, key=lambda t: (t.day, -t.start), default=None)

    # ---- stated timing ------------------------------------------------------------------

    def timings(self, text: Folded, sent: date, language: str | None) -> list[Timing]:
        """Every stated timing, in text order; `day` is None for vague ones ("next renewal")."""
        if next(self._any_timing.spans(text.text, text.words), None) is None:
            return []
        found: list[Timing] = []
        taken: list[tuple[int, int]] = []
        for pattern in self._timing:
            for match in pattern.finditer(text.text):
                start, end = match.span()
                if any(s < end and start < e for s, e in taken):
                    continue
                before = text.text[max(text.clause_start(start), start - 60) : start]
                if self._past is not None and self._past.search(before):
                    continue  # "we signed with them last March", "retired in August"
                if self._negated.search(before) and not self._until.match(match.group()):
                    continue  # "not next year" (but "not until March" is March)
                day = self._resolve(match, sent, language)
                if day is not None and not sent < day <= sent + _MAX_AHEAD:
                    continue  # a past date ("signed in March" read as next March) or absurd
                found.append(Timing(day, start, end))
                taken.append((start, end))
        found.sort(key=lambda t: t.start)
        return found

    def _resolve(self, match: re.Match[str], sent: date, language: str | None) -> date | None:
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        vocab = self._vocab
        if "vague" in groups:
            return None
        if any(k.startswith("dx_") for k in groups):
            return self._explicit(match, sent, language, relative=False)
        part = str(vocab.lookup(vocab.parts, groups["part"])) if "part" in groups else None
        if "n" in groups and "unit" in groups:
            raw = groups["n"]
            n = int(raw) if raw.isdigit() else vocab.lookup(vocab.numbers, raw)
            unit = vocab.lookup(vocab.units, groups["unit"])
            return _offset(sent, n, unit) if isinstance(n, int) and isinstance(unit, str) else None
        if "half" in groups:
            return sent + relativedelta(months=6)
        if "next" in groups:
            unit = vocab.lookup(vocab.units, groups["next"])
            return _next_period(sent, unit, part) if isinstance(unit, str) else None
        if "month" in groups:
            month = vocab.lookup(vocab.months, groups["month"])
            if not isinstance(month, int):
                return None
            year = int(groups["year"]) if "year" in groups else None
            return _month(sent, month, year=year, part=part, after="after" in groups)
        if "season" in groups:
            start = vocab.lookup(vocab.seasons, groups["season"])
            if not isinstance(start, int):
                return None
            month = (start + 2) % 12 + 1 if "after" in groups else start
            return _month(sent, month, year=None, part=None, after=False)
        if "q" in groups or "qord" in groups:
            q = int(groups["q"]) if "q" in groups else vocab.lookup(vocab.ordinals, groups["qord"])
            if not isinstance(q, int) or not 1 <= q <= 4:
                return None
            month = 3 * q - 2
            year = int(groups["year"]) if "year" in groups else None
            return _month(sent, month, year=year, part=None, after="after" in groups, span=3)
        if "yonly" in groups:  # "not until 2027": its first day (after 2027: the next year's)
            year = int(groups["yonly"]) + (1 if "after" in groups else 0)
            return date(year, 1, 1)
        if "yearend" in groups:
            end = date(sent.year, 12, 1)
            return end if end > sent else None
        if "newyear" in groups or "winter" in groups:
            return date(sent.year + 1, 1, 1)
        if "summer" in groups:
            return _month(sent, 9, year=None, part=None, after=False)
        if "holidays" in groups:
            if sent.month >= 9:
                return date(sent.year + 1, 1, 1)
            if sent.month >= 5:
                return date(sent.year, 9, 1)
            return None
        if "weekday" in groups:
            weekday = vocab.lookup(vocab.weekdays, groups["weekday"])
            return _next_weekday(sent, weekday) if isinstance(weekday, int) else None
        return None

    def _explicit(
        self, match: re.Match[str], sent: date, language: str | None, *, relative: bool
    ) -> date | None:
        g = {k: v for k, v in match.groupdict().items() if v is not None}
        vocab = self._vocab
        if relative and "dx_tom" in g:
            return sent + timedelta(days=1)
        if relative and "dx_wdonly" in g:
            weekday = vocab.lookup(vocab.weekdays, g["dx_wdonly"])
            return _next_weekday(sent, weekday) if isinstance(weekday, int) else None
        if relative and "dx_dayonly" in g:  # "back on the 19th": this month or the next
            day_of_month = int(g["dx_dayonly"])
            here = _on(sent, sent.year, sent.month, day_of_month)
            if here is not None and here >= sent:
                return here
            following = sent.replace(day=1) + relativedelta(months=1)
            return _on(sent, following.year, following.month, day_of_month)
        if relative and "dx_monly" in g:  # "until January 2027": its first day
            month_only = vocab.lookup(vocab.months, g["dx_monly"])
            if not isinstance(month_only, int):
                return None
            year_only = int(g["dx_ymonly"]) if "dx_ymonly" in g else None
            return (
                _on(sent, year_only, month_only, 1)
                if year_only
                else _month(sent, month_only, year=None, part=None, after=False)
            )
        year: int | None
        if "dx_m1" in g or "dx_m2" in g:
            month = vocab.lookup(vocab.months, g.get("dx_m1") or g["dx_m2"])
            day = int(g.get("dx_d1") or g["dx_d2"])
            raw_year = g.get("dx_y1") or g.get("dx_y2")
            year = int(raw_year) if raw_year else None
        elif "dx_y3" in g:
            year, month, day = int(g["dx_y3"]), int(g["dx_m3"]), int(g["dx_d3"])
        elif "dx_a" in g:
            a, b = int(g["dx_a"]), int(g["dx_b"])
            month_first = g["dx_sep"] == "/" and language in (None, "en")
            if (month_first and a > 12) or (not month_first and b > 12):
                month_first = not month_first
            month, day = (a, b) if month_first else (b, a)
            raw = g.get("dx_y4")
            year = (int(raw) + 2000 if len(raw) == 2 else int(raw)) if raw else None
        else:
            return None
        if not isinstance(month, int):
            return None
        return _on(sent, year, month, day)


def _on(sent: date, year: int | None, month: int, day: int) -> date | None:
    """The date (year given) or its next occurrence on or after `sent`."""
    try:
        if year is not None:
            return date(year, month, day)
        found = date(sent.year, month, day)
        return found if found >= sent else date(sent.year + 1, month, day)
    except ValueError:
        return None


def _offset(sent: date, n: int, unit: str) -> date | None:
    if not 0 < n <= 60:
        return None
    deltas = {
        "day": relativedelta(days=n),
        "week": relativedelta(weeks=n),
        "fortnight": relativedelta(weeks=2 * n),
        "month": relativedelta(months=n),
        "quarter": relativedelta(months=3 * n),
        "year": relativedelta(years=n),
    }
    delta = deltas.get(unit)
    return sent + delta if delta is not None else None


def _next_period(sent: date, unit: str, part: str | None) -> date | None:
    if unit in ("week", "fortnight"):
        monday = sent + timedelta(days=7 - sent.weekday())
        return monday + timedelta(days=4) if part in ("late", "end") else monday
    if unit == "month":
        first = (sent.replace(day=1) + relativedelta(months=1)).replace(day=1)
        return _within(first, 1, part)
    if unit == "quarter":
        first = date(sent.year, 3 * ((sent.month - 1) // 3) + 1, 1) + relativedelta(months=3)
        return _within(first, 3, part)
    if unit == "year":
        return _within(date(sent.year + 1, 1, 1), 12, part)
    return None


def _within(first: date, months: int, part: str | None) -> date:
    """The early / middle / late point of a period of `months` months starting at `first`."""
    if months == 1:
        last = calendar.monthrange(first.year, first.month)[1]
        day = {"mid": 15, "late": 20, "end": last}.get(part or "", 1)
        return first.replace(day=day)
    offset = {"mid": months // 2, "late": (2 * months) // 3, "end": months - 1}
    return first + relativedelta(months=offset.get(part or "", 0))


def _month(
    sent: date, month: int, *, year: int | None, part: str | None, after: bool, span: int = 1
) -> date | None:
    """A month (or a quarter: span=3) stated without a day: its next occurrence after `sent`."""
    if after:
        month += span
        if month > 12:
            month -= 12
            year = year + 1 if year is not None else None
    candidate_year = year if year is not None else sent.year
    found = _within(date(candidate_year, month, 1), span, part)
    if year is None and found <= sent:
        found = _within(date(candidate_year + 1, month, 1), span, part)
    return found


def _next_weekday(sent: date, weekday: int) -> date:
    ahead = (weekday - sent.weekday()) % 7 or 7
    return sent + timedelta(days=ahead)
