"""Auto-reply detection from headers and subject lines.

Headers first (RFC 3834 `Auto-Submitted`, the de-facto `X-Autoreply` / `X-Autorespond` /
`Precedence`, Exchange's out-of-office marking), then subject openings in the supported
languages. Only the opening of the subject counts: a prospect replying "Re: Out of office
tools" to a pitch with that title is a person, not a machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from syncd.replies.lexicon.registry import LEXICONS
from syncd.replies.text import fold, fold_pattern, literal_pattern

_AUTOMATED_PRECEDENCE = frozenset({"auto_reply", "auto-reply", "bulk", "junk"})
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-auto-reply")
_FALSE = frozenset({"", "no", "false", "0", "off"})
# Exchange marks its own out-of-office replies: the suppress header alone is also sent on
# ordinary mail by some clients, so it counts only together with the inbox-rules markers.
_EXCHANGE_MARKERS = ("x-ms-exchange-inbox-rules-loop", "x-ms-exchange-generated-message-source")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, looked up case-insensitively (mail headers are case-insensitive)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, found in headers.items():
        if key.lower() == wanted:
            return found
    return None


def auto_reply_evidence(
    headers: Mapping[str, str], subject: str, extra_subjects: Iterable[str] = ()
) -> str | None:
    """Why the message looks machine-sent (a header or the subject), or None."""
    submitted = header(headers, "Auto-Submitted")
    if submitted is not None and submitted.split(";")[0].strip().lower() not in _FALSE:
        return f"Auto-Submitted: {submitted.strip()}"
    for name in _AUTOREPLY_HEADERS:
        value = header(headers, name)
        if value is not None and value.strip().lower() not in _FALSE:
            return f"{name}: {value.strip()}"
    precedence = header(headers, "Precedence")
    if precedence is not None and precedence.strip().lower() in _AUTOMATED_PRECEDENCE:
        return f"Precedence: {precedence.strip()}"
    suppress = header(headers, "X-Auto-Response-Suppress")
    if suppress and any(header(headers, marker) is not None for marker in _EXCHANGE_MARKERS):
        return f"X-Auto-Response-Suppress: {suppress.strip()}"
    match = _subject_pattern(tuple(extra_subjects)).match(fold(subject))
    if match:
        return f"subject: {subject.strip()[: match.end()].strip()}"
    return None


def is_auto_reply(headers: Mapping[str, str], subject: str) -> bool:
    """True when headers or the subject mark the message as an automatic reply."""
    return auto_reply_evidence(headers, subject) is not None


@lru_cache(maxsize=32)
def _subject_pattern(extra: tuple[str, ...]) -> re.Pattern[str]:
    openings = [fold_pattern(p) for lx in LEXICONS.values() for p in lx.auto_subjects]
    openings += [literal_pattern(s) for s in extra]
    return re.compile(r"\s*[\[(]?\s*(?:" + "|".join(openings) + ")")


@lru_cache(maxsize=1)
def _reply_prefix() -> re.Pattern[str]:
    words = sorted({fold(p) for lx in LEXICONS.values() for p in lx.reply_prefixes}, key=len)
    alternation = "|".join(re.escape(w) for w in reversed(words))
    return re.compile(rf"^\s*(?:(?:{alternation})\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def strip_reply_prefixes(subject: str) -> str:
    """The subject without "Re:", "AW:", "Fwd:" … openings."""
    match = _reply_prefix().match(fold(subject))  # prefixes fold without changing length
    return subject[match.end() :] if match else subject
