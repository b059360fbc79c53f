"""Reply intent classification: phrase cues in seven languages, weighed, with a second opinion.

An opt-out wins over everything (suppression first, and a missed opt-out is a legal problem).
Machine-sent replies are out-of-office notices unless they say the person left (a referral).
Among a person's words, every cue adds its weight to the intent it speaks for
(`syncd.replies.weighing`), and the strongest intent wins. A learned model
(`syncd.replies.learned`) reads the same text; the confidence blends both. A reply goes to a
person (`review`) when the confidence is low, the cues conflict, nothing matched, the model
disagrees, or the opt-out safety net (`syncd.replies.optout_net`) fires without a decisive
opt-out. Every decision carries the phrases that made it, quoted as written.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache

from syncd.model import Channel, Intent, ReplyInfo
from syncd.replies.autoreply import auto_reply_evidence, strip_reply_prefixes
from syncd.replies.config import RepliesConfig
from syncd.replies.dates import DateFinder, Timing
from syncd.replies.extract import extract_new_text
from syncd.replies.fields import (
    ADDRESS,
    HTML_FACTOR,
    bounded,
    clean_address,
    sender_address,
    vendor_name,
)
from syncd.replies.learned import IntentModel, shipped_model
from syncd.replies.lexicon import Cue
from syncd.replies.lexicon.registry import LEXICONS
from syncd.replies.matcher import OPT_OUT_CUES, Hit, Matcher
from syncd.replies.message import Classification, ReplyMessage
from syncd.replies.optout_net import net_hits, subject_is_request
from syncd.replies.text import Folded, folded
from syncd.replies.weighing import (
    CUE_WEIGHTS,
    DATED_TIMING,
    LATER_INTEREST,
    REFERRED_ADDRESS,
    REPEAT,
    RETURN_DATE,
    VAGUE_TIMING,
    WEAK_YES,
    Tally,
    blend,
    rules_confidence,
    weak_yes,
)

_WORD = re.compile(r"[a-z']+")
# Shared mailboxes answered by whoever is at the front desk.
_FRONT_DESK_MAILBOXES = frozenset(
    {
        *("office", "reception", "frontdesk", "front.desk", "info", "empfang", "zentrale"),
        *("sekretariat", "accueil", "standard", "recepcion", "secretaria", "assistant"),
    }
)
_MAX_SUBJECT = 1_000  # characters of a subject read: a real one is a line
_OPT_OUT_DECISIVE = (Cue.OPT_OUT, Cue.OPT_OUT_FIRM, Cue.ERASURE)
_MAX_OPT_OUT_HITS = 16  # their channels and quotes; a reply repeating "stop" 500 times says it


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
    net: list[str] = field(default_factory=list)  # what the opt-out safety net caught
    truncated: str | None = None  # evidence that only the opening was read

    def has(self, *cues: Cue) -> bool:
        return any(self.hits.get(c) for c in cues)

    def quotes(self, *cues: Cue) -> list[str]:
        found = _outermost([h for c in cues for h in self.hits.get(c, ())])
        return [self.text.quote(h.start, h.end) for h in found]


@dataclass(frozen=True, slots=True)
class _Verdict:
    """The rules' choice, before confidence and review are added."""

    intent: Intent
    evidence: list[str]
    tally: Tally
    channels: frozenset[Channel] = frozenset()
    return_date: Timing | None = None
    followup: date | None = None
    referral: str | None = None
    competitor: str | None = None
    decisive: bool = False  # an opt-out in so many words, or a machine's notice


class Classifier:
    """Compiled phrase tables for one configuration; `classify` is safe to call concurrently."""

    def __init__(self, config: RepliesConfig | None = None, model: IntentModel | None = None):
        self.config = config or RepliesConfig()
        enabled = [LEXICONS[code] for code in self.config.languages]
        self._matcher = Matcher(enabled, list(LEXICONS.values()), self.config.phrases)
        self._dates = DateFinder(enabled)
        self._stopwords = {lx.code: lx.stopwords for lx in enabled}
        self._model = model if model is not None else shipped_model()

    def classify(self, message: ReplyMessage) -> Classification:
        """Classify one reply (see the module docstring)."""
        reading = self._read(message)
        verdict = self._machine(reading) if reading.auto is not None else self._person(reading)
        return self._reviewed(reading, verdict)

    # ---- reading ------------------------------------------------------------------------

    def _read(self, message: ReplyMessage) -> _Reading:
        limit = self.config.max_body_chars
        body, cut = bounded(message.body, limit)
        html = None
        if message.html:
            html, html_cut = bounded(message.html, HTML_FACTOR * limit)
            cut = cut or html_cut
        new_text = extract_new_text(body, html)
        truncated = None
        if cut or len(new_text) > self.config.max_text_chars:
            new_text = new_text[: self.config.max_text_chars]
            truncated = "(only the opening of a very long reply was read)"
        text = folded(new_text)
        auto = auto_reply_evidence(
            message.headers, message.subject[:_MAX_SUBJECT], self.config.auto_reply_subjects
        )
        hits: dict[Cue, list[Hit]] = {}
        for hit in self._matcher.scan(text):
            hits.setdefault(hit.cue, []).append(hit)
        if auto is not None:  # a machine's bare "unsubscribe" link text is no request
            hits.pop(Cue.OPT_OUT_BARE, None)
        # undated input (a hand-written JSON line) is read as written today
        sent = message.date.date() if message.date else datetime.now(UTC).date()
        subject = strip_reply_prefixes(message.subject[:_MAX_SUBJECT])
        reading = _Reading(
            text=text,
            sent=sent,
            language=self._language(text, hits),
            auto=auto,
            hits=hits,
            sender=sender_address(message.sender[:_MAX_SUBJECT]),
            truncated=truncated,
        )
        if auto is None:
            folded_subject = folded(subject)
            # a bare "opt-out" in "Re: Opt-out rates" is the pitch's subject, not a request
            bare_counts = subject_is_request(subject)
            reading.subject_opt_outs = [
                (h, folded_subject)
                for h in self._matcher.scan(folded_subject, OPT_OUT_CUES)
                if h.cue is not Cue.NOT_A_REQUEST and (bare_counts or h.cue is not Cue.OPT_OUT_BARE)
            ]
            reading.net = net_hits(text, subject)
        else:  # a machine does not object; its disclaimer footer mentions data protection
            reading.net = net_hits(folded(""), subject)
        return reading

    def _language(self, text: Folded, hits: dict[Cue, list[Hit]]) -> str | None:
        votes: Counter[str] = Counter()
        for word in _WORD.findall(text.text[:2_000]):
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

    def _machine(self, r: _Reading) -> _Verdict:
        """An automatic reply: an out-of-office notice unless it says the person left."""
        opt_outs = self._opt_outs(r)
        if opt_outs is not None:
            return opt_outs
        tally = Tally()
        evidence = [r.auto or ""]
        back = self._dates.return_date(r.text, r.sent, r.language)
        # "wenden Sie sich an die Zentrale" in an absence notice is no referral
        if r.has(Cue.REFERRAL) and back is None and not r.has(Cue.ABSENCE):
            tally.add(Intent.REFERRAL, 3.0)
            return _Verdict(
                Intent.REFERRAL,
                evidence + r.quotes(Cue.REFERRAL),
                tally,
                referral=self._referral(r),
                decisive=True,
            )
        tally.add(Intent.OUT_OF_OFFICE, 2.0 + (RETURN_DATE if back or r.has(Cue.ABSENCE) else 0))
        evidence += r.quotes(Cue.ABSENCE) + _timing_quote(r.text, back)
        return _Verdict(Intent.OUT_OF_OFFICE, evidence, tally, return_date=back, decisive=True)

    def _person(self, r: _Reading) -> _Verdict:
        opt_outs = self._opt_outs(r)
        if opt_outs is not None:
            return opt_outs
        tally = Tally()
        named = self._competitor(r)
        absent = r.has(Cue.ABSENCE)
        for cue, (intent, weight) in CUE_WEIGHTS.items():
            if cue is Cue.COMPETITOR_NAMED and named is None:
                continue
            for n, hit in enumerate(_outermost(r.hits.get(cue, []))[:2]):
                quote = r.text.quote(hit.start, hit.end)
                w = WEAK_YES if cue is Cue.INTERESTED and weak_yes(quote) else weight
                if intent is Intent.REFERRAL and absent:  # "for urgent matters contact …"
                    w = REFERRED_ADDRESS
                tally.add(intent, w * (REPEAT if n else 1.0), quote)
        timings = self._dates.timings(r.text, r.sent, r.language)
        followup = max((t.day for t in timings if t.day is not None), default=None)
        interested = r.has(Cue.INTERESTED)
        for t in timings:
            quote = r.text.quote(t.start, t.end)
            if interested and self._defers(t, r.sent):
                tally.add(Intent.NOT_NOW, LATER_INTEREST, quote)
            elif not interested:
                tally.add(Intent.NOT_NOW, DATED_TIMING if t.day else VAGUE_TIMING, quote)
            else:  # a nearer date is the meeting's
                tally.evidence.setdefault(Intent.INTERESTED, []).append(quote)
        back = None
        if r.has(Cue.ABSENCE):
            back = self._dates.return_date(r.text, r.sent, r.language)
            if back is not None:
                tally.add(Intent.OUT_OF_OFFICE, RETURN_DATE, r.text.quote(back.start, back.end))
        referral = self._referral(r)
        if referral is not None and not absent:
            tally.add(Intent.REFERRAL, REFERRED_ADDRESS, referral)
        ranked = tally.ranked()
        intent = ranked[0][0] if ranked else Intent.OTHER
        return _Verdict(
            intent,
            tally.evidence.get(intent, []),
            tally,
            return_date=back if intent is Intent.OUT_OF_OFFICE else None,
            followup=followup if intent in _DATED_INTENTS else None,
            referral=referral if intent is Intent.REFERRAL else None,
            competitor=named if intent is Intent.COMPETITOR else None,
        )

    def _reviewed(self, r: _Reading, v: _Verdict) -> Classification:
        """The verdict with its confidence and, when a person must read it, the reasons."""
        cfg = self.config
        reasons: list[str] = []
        if v.decisive:  # an opt-out in so many words, a machine's notice: no second opinion
            confidence = round(min(1.0, v.tally.ranked()[0][1] / 3.0), 3)
        else:
            probabilities = self._model.probabilities(r.text.original) if r.text.text else {}
            guess = max(probabilities, key=probabilities.__getitem__, default=Intent.OTHER)
            agreement = probabilities.get(v.intent, 0.0)
            confidence = blend(rules_confidence(v.tally), agreement, cfg.model_share)
            if not v.tally.ranked():
                reasons.append("no_cue")
            elif v.tally.conflicting():
                reasons.append("conflicting_cues")
            if confidence < cfg.review_below and v.tally.ranked():
                reasons.append("low_confidence")
            # an opt-out the model half believes in is worth a person's look
            opt_out = probabilities.get(Intent.OPT_OUT, 0.0) >= cfg.model_disagrees / 2
            if (guess is not v.intent and probabilities.get(guess, 0.0) >= cfg.model_disagrees) or (
                opt_out and v.intent is not Intent.OPT_OUT
            ):
                reasons.append("model_disagrees")
        evidence = list(v.evidence)
        if r.net and v.intent is not Intent.OPT_OUT:
            reasons.append("opt_out_net")
            evidence += r.net
        if r.truncated:
            evidence.append(r.truncated)
        local = r.sender.split("@")[0]
        return Classification(
            intent=v.intent,
            channels=v.channels,
            return_date=v.return_date.day if v.return_date else None,
            followup_after=v.followup,
            referral_email=v.referral,
            competitor=v.competitor,
            evidence=tuple(dict.fromkeys(e for e in evidence if e)),
            auto_reply=r.auto is not None,
            gatekeeper=r.has(Cue.GATEKEEPER) or local in _FRONT_DESK_MAILBOXES,
            hostile=r.auto is None and r.has(Cue.HOSTILE),
            language=r.language,
            text=r.text.original,
            confidence=confidence,
            review=bool(reasons),
            review_reasons=tuple(reasons),
        )

    def _defers(self, timing: Timing, sent: date) -> bool:
        if timing.day is None:
            return True
        return (timing.day - sent).days > self.config.deferral_min_days

    def _opt_outs(self, r: _Reading) -> _Verdict | None:
        cues = (*_OPT_OUT_DECISIVE, Cue.OPT_OUT_BARE)
        found = [(h, r.text) for h in _outermost([h for c in cues for h in r.hits.get(c, ())])]
        found = found[:_MAX_OPT_OUT_HITS] + r.subject_opt_outs[:_MAX_OPT_OUT_HITS]
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
        tally = Tally()
        tally.add(Intent.OPT_OUT, 4.0)
        return _Verdict(
            Intent.OPT_OUT,
            evidence,
            tally,
            channels=channels,
            referral=self._referral(r),
            decisive=True,
        )

    # ---- extracted fields ---------------------------------------------------------------

    def _referral(self, r: _Reading) -> str | None:
        for match in ADDRESS.finditer(r.text.original):
            found = clean_address(match.group())
            if found is not None and found != r.sender:
                return found
        return None

    def _competitor(self, r: _Reading) -> str | None:
        for hit in r.hits.get(Cue.COMPETITOR_NAMED, ()):
            if hit.name is not None:
                name = vendor_name(r.text.quote(*hit.name))
                if name is not None:
                    return name
        return None


_DATED_INTENTS = frozenset(
    {Intent.NOT_NOW, Intent.INTERESTED, Intent.COMPETITOR, Intent.NOT_INTERESTED}
)


def _outermost(hits: list[Hit]) -> list[Hit]:
    """Hits in text order, without those inside another ("Désabonnez" in "Désabonnez-moi")."""
    kept: list[Hit] = []
    reach = -1  # the furthest end of a kept hit: all of them start at or before this one
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if hit.end > reach:
            kept.append(hit)
            reach = hit.end
    return kept


def _timing_quote(text: Folded, timing: Timing | None) -> list[str]:
    return [text.quote(timing.start, timing.end)] if timing else []


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
    c: Classification,
    *,
    message_id: str,
    thread_id: str,
    subject: str,
    references: str = "",
    mailbox_id: str = "",
) -> ReplyInfo:
    """The classification in the shape the engine and the policy use."""
    return ReplyInfo(
        intent=c.intent,
        message_id=message_id,
        thread_id=thread_id,
        subject=subject,
        references=references,
        mailbox_id=mailbox_id,
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
        text=c.text,
    )
