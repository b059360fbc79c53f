"""Reply intent classification: phrase cues in four languages, resolved by a fixed precedence.

Precedence follows the policy: an opt-out wins over everything (suppression first, and a
missed opt-out is a legal problem); machine-sent replies can only be out-of-office notices,
referrals ("no longer with the company") or nothing; among a person's words a named referral
beats a competitor, which beats a hostile no, a "not now" (or any timing further out than
`deferral_min_days`), a plain no, and interest, in that order. Every decision carries the
phrases that made it, quoted as written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache

from syncd.model import Channel, Intent, ReplyInfo
from syncd.replies.autoreply import auto_reply_evidence, strip_reply_prefixes
from syncd.replies.config import RepliesConfig
from syncd.replies.dates import DateFinder, Timing
from syncd.replies.extract import extract_new_text
from syncd.replies.lexicon import Cue
from syncd.replies.lexicon.registry import LEXICONS
from syncd.replies.matcher import OPT_OUT_CUES, Hit, Matcher
from syncd.replies.message import Classification, ReplyMessage
from syncd.replies.text import Folded, folded

# starts only where a token starts, so a long run without "@" is scanned once, not per char
_ADDRESS = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_WORD = re.compile(r"[a-z']+")
_TRAILING = ",.;:!?)]}\"'"
# Shared mailboxes answered by whoever is at the front desk.
_FRONT_DESK_MAILBOXES = frozenset(
    {
        *("office", "reception", "frontdesk", "front.desk", "info", "empfang", "zentrale"),
        *("sekretariat", "accueil", "standard", "recepcion", "secretaria", "assistant"),
    }
)
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
_OPT_OUT_DECISIVE = (Cue.OPT_OUT, Cue.OPT_OUT_FIRM, Cue.ERASURE)


@dataclass(slots=True)
class _Reading:
    """Everything found in one reply, before the intent is chosen."""

    text: Folded
    sent: date
    language: str | None
    auto: str | None  # why it is machine-sent, or None
    hits: dict[Cue, list[Hit]]
    subject_opt_outs: list[tuple[Hit, Folded]] = field(default_factory=list)
    sender: str = ""

    def has(self, *cues: Cue) -> bool:
        return any(self.hits.get(c) for c in cues)

    def quotes(self, *cues: Cue) -> list[str]:
        found = _outermost([h for c in cues for h in self.hits.get(c, ())])
        return [self.text.quote(h.start, h.end) for h in found]


class Classifier:
    """Compiled phrase tables for one configuration; `classify` is safe to call concurrently."""

    def __init__(self, config: RepliesConfig | None = None) -> None:
        self.config = config or RepliesConfig()
        enabled = [LEXICONS[code] for code in self.config.languages]
        self._matcher = Matcher(enabled, list(LEXICONS.values()), self.config.phrases)
        self._dates = DateFinder(enabled)
        self._stopwords = {lx.code: lx.stopwords for lx in enabled}

    def classify(self, message: ReplyMessage) -> Classification:
        """Classify one reply (see the module docstring for the precedence)."""
        reading = self._read(message)
        if reading.auto is not None:
            return self._machine(reading)
        return self._person(reading)

    # ---- reading ------------------------------------------------------------------------

    def _read(self, message: ReplyMessage) -> _Reading:
        limit = self.config.max_body_chars
        text = folded(extract_new_text(message.body, message.html, max_chars=limit))
        auto = auto_reply_evidence(
            message.headers, message.subject, self.config.auto_reply_subjects
        )
        hits: dict[Cue, list[Hit]] = {}
        for hit in self._matcher.scan(text):
            hits.setdefault(hit.cue, []).append(hit)
        if auto is not None:  # a machine's bare "unsubscribe" link text is no request
            hits.pop(Cue.OPT_OUT_BARE, None)
        # undated input (a hand-written JSON line) is read as written today
        sent = message.date.date() if message.date else datetime.now(UTC).date()
        reading = _Reading(
            text=text,
            sent=sent,
            language=self._language(text, hits),
            auto=auto,
            hits=hits,
            sender=_sender_address(message.sender),
        )
        if auto is None:
            subject = folded(strip_reply_prefixes(message.subject))
            reading.subject_opt_outs = [
                (h, subject)
                for h in self._matcher.scan(subject, OPT_OUT_CUES)
                if h.cue is not Cue.NOT_A_REQUEST
            ]
        return reading

    def _language(self, text: Folded, hits: dict[Cue, list[Hit]]) -> str | None:
        votes: Counter[str] = Counter()
        for word in _WORD.findall(text.text):
            for code, stopwords in self._stopwords.items():
                if word in stopwords:
                    votes[code] += 1
        for found in hits.values():
            for hit in found:
                if hit.language in self._stopwords:
                    votes[hit.language] += 2
        if not votes:
            return None
        order = {code: i for i, code in enumerate(LEXICONS)}
        return max(votes, key=lambda code: (votes[code], -order[code]))

    # ---- deciding -----------------------------------------------------------------------

    def _machine(self, r: _Reading) -> Classification:
        opt_outs = self._opt_outs(r)
        if opt_outs is not None:
            return opt_outs
        evidence = [r.auto or ""]
        back = self._dates.return_date(r.text, r.sent, r.language)
        if r.has(Cue.ABSENCE) or back is not None:
            evidence += r.quotes(Cue.ABSENCE) + _timing_quote(r.text, back)
            return self._result(r, Intent.OUT_OF_OFFICE, evidence, return_date=back)
        if r.has(Cue.REFERRAL):
            return self._result(
                r, Intent.REFERRAL, evidence + r.quotes(Cue.REFERRAL), referral=self._referral(r)
            )
        return self._result(r, Intent.OTHER, evidence)

    def _person(self, r: _Reading) -> Classification:
        opt_outs = self._opt_outs(r)
        if opt_outs is not None:
            return opt_outs
        verdict = (Cue.INTERESTED, Cue.NOT_NOW, Cue.NOT_INTERESTED, Cue.COMPETITOR, Cue.HOSTILE)
        if r.has(Cue.ABSENCE) and not r.has(*verdict):
            back = self._dates.return_date(r.text, r.sent, r.language)
            if back is not None:
                evidence = r.quotes(Cue.ABSENCE) + _timing_quote(r.text, back)
                return self._result(r, Intent.OUT_OF_OFFICE, evidence, return_date=back)
        referral = self._referral(r)
        if r.has(Cue.REFERRAL):
            return self._result(r, Intent.REFERRAL, r.quotes(Cue.REFERRAL), referral=referral)
        timings = self._dates.timings(r.text, r.sent, r.language)
        followup = max((t.day for t in timings if t.day is not None), default=None)
        named = self._competitor(r)
        if named is not None or r.has(Cue.COMPETITOR):
            evidence = r.quotes(Cue.COMPETITOR, Cue.COMPETITOR_NAMED)
            return self._result(r, Intent.COMPETITOR, evidence, followup=followup, competitor=named)
        if r.has(Cue.HOSTILE):
            return self._result(r, Intent.NOT_INTERESTED, r.quotes(Cue.HOSTILE))
        # a stated timing is a deferral; next to interest only when it is far enough out
        deferrals = [t for t in timings if self._defers(t, r.sent) or not r.has(Cue.INTERESTED)]
        if r.has(Cue.NOT_NOW) or deferrals:
            evidence = r.quotes(Cue.NOT_NOW) + [r.text.quote(t.start, t.end) for t in timings]
            return self._result(r, Intent.NOT_NOW, evidence, followup=followup)
        if r.has(Cue.NOT_INTERESTED):
            return self._result(r, Intent.NOT_INTERESTED, r.quotes(Cue.NOT_INTERESTED))
        if r.has(Cue.INTERESTED):
            evidence = r.quotes(Cue.INTERESTED) + [r.text.quote(t.start, t.end) for t in timings]
            return self._result(r, Intent.INTERESTED, evidence, followup=followup)
        if r.has(Cue.GATEKEEPER) or referral is not None:
            evidence = r.quotes(Cue.GATEKEEPER) + ([referral] if referral else [])
            return self._result(r, Intent.REFERRAL, evidence, referral=referral)
        if r.has(Cue.ABSENCE):
            back = self._dates.return_date(r.text, r.sent, r.language)
            evidence = r.quotes(Cue.ABSENCE) + _timing_quote(r.text, back)
            return self._result(r, Intent.OUT_OF_OFFICE, evidence, return_date=back)
        return self._result(r, Intent.OTHER, [])

    def _defers(self, timing: Timing, sent: date) -> bool:
        if timing.day is None:
            return True
        return (timing.day - sent).days > self.config.deferral_min_days

    def _opt_outs(self, r: _Reading) -> Classification | None:
        cues = (*_OPT_OUT_DECISIVE, Cue.OPT_OUT_BARE)
        found = [(h, r.text) for h in _outermost([h for c in cues for h in r.hits.get(c, ())])]
        found += r.subject_opt_outs
        if not found:
            return None
        channels: frozenset[Channel] = frozenset()
        evidence: list[str] = []
        for hit, text in sorted(found, key=lambda pair: (pair[1] is not r.text, pair[0].start)):
            channels |= self._matcher.channels(hit, text)
            quote = text.quote(hit.start, hit.end)
            evidence.append(quote if text is r.text else f"subject: {quote}")
        if r.auto:
            evidence.insert(0, r.auto)
        return self._result(
            r, Intent.OPT_OUT, evidence, channels=channels, referral=self._referral(r)
        )

    # ---- extracted fields ---------------------------------------------------------------

    def _referral(self, r: _Reading) -> str | None:
        for match in _ADDRESS.finditer(r.text.original):
            address = match.group().rstrip(".").lower()
            if address != r.sender:
                return address
        return None

    def _competitor(self, r: _Reading) -> str | None:
        for hit in r.hits.get(Cue.COMPETITOR_NAMED, ()):
            if hit.name is not None:
                name = _vendor_name(r.text.quote(*hit.name))
                if name is not None:
                    return name
        return None

    def _result(
        self,
        r: _Reading,
        intent: Intent,
        evidence: Sequence[str],
        *,
        channels: frozenset[Channel] = frozenset(),
        return_date: Timing | None = None,
        followup: date | None = None,
        referral: str | None = None,
        competitor: str | None = None,
    ) -> Classification:
        local = r.sender.split("@")[0]
        return Classification(
            intent=intent,
            channels=channels,
            return_date=return_date.day if return_date else None,
            followup_after=followup,
            referral_email=referral,
            competitor=competitor,
            evidence=tuple(dict.fromkeys(e for e in evidence if e)),
            auto_reply=r.auto is not None,
            gatekeeper=r.has(Cue.GATEKEEPER) or local in _FRONT_DESK_MAILBOXES,
            hostile=r.auto is None and r.has(Cue.HOSTILE),
            language=r.language,
            text=r.text.original,
        )


def _outermost(hits: list[Hit]) -> list[Hit]:
    """Hits in text order, without those inside another ("Désabonnez" in "Désabonnez-moi")."""
    ordered = sorted(hits, key=lambda h: (h.start, -h.end))
    kept: list[Hit] = []
    for hit in ordered:
        if not any(k.start <= hit.start and hit.end <= k.end for k in kept):
            kept.append(hit)
    return kept


def _sender_address(sender: str) -> str:
    match = _ADDRESS.search(sender)
    return match.group().lower() if match else ""


def _timing_quote(text: Folded, timing: Timing | None) -> list[str]:
    return [text.quote(timing.start, timing.end)] if timing else []


def _vendor_name(raw: str) -> str | None:
    """The capitalised words a vendor's name is made of ("StockPilot", "Acme Corp")."""
    words: list[str] = []
    for token in raw.split():
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


def classify(message: ReplyMessage, config: RepliesConfig | None = None) -> Classification:
    """Classify one reply; tables are compiled once per configuration object."""
    return (_default() if config is None else _classifier_for(config)).classify(message)


@lru_cache(maxsize=1)
def _default() -> Classifier:
    return Classifier()


# Keyed by identity: a RepliesConfig holds dicts and is not hashable. The config is kept in
# the entry so that a recycled id() can never return another config's tables.
_CACHE: dict[int, tuple[RepliesConfig, Classifier]] = {}


def _classifier_for(config: RepliesConfig) -> Classifier:
    cached = _CACHE.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    if len(_CACHE) >= 16:
        _CACHE.clear()
    classifier = Classifier(config)
    _CACHE[id(config)] = (config, classifier)
    return classifier


def to_reply_info(
    c: Classification, *, message_id: str, thread_id: str, subject: str, references: str = ""
) -> ReplyInfo:
    """The classification in the shape the engine and the policy use."""
    return ReplyInfo(
        intent=c.intent,
        message_id=message_id,
        thread_id=thread_id,
        subject=subject,
        references=references,
        opt_out_channels=c.channels,
        return_date=c.return_date,
        followup_after=c.followup_after,
        referral_email=c.referral_email,
        competitor=c.competitor,
        auto_reply=c.auto_reply,
        gatekeeper=c.gatekeeper,
        hostile=c.hostile,
        evidence=c.evidence,
        confidence=c.confidence,
        review=c.review,
        review_reasons=c.review_reasons,
    )
