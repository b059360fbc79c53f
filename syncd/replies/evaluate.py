"""Scoring the classifier against labelled replies (the benchmark and the dev-set test).

A labelled line is a `syncd classify` input line plus `label` (the intent) and, when the reply
states them, `channels`, `return_date`, `followup_after`, `referral_email`, `competitor`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncd.model import Intent
from syncd.replies.classify import Classifier
from syncd.replies.cli import output_record
from syncd.replies.inputs import message_from_record
from syncd.replies.message import ReplyMessage

FIELDS = ("channels", "return_date", "followup_after", "referral_email", "competitor")


@dataclass(frozen=True, slots=True)
class Labelled:
    message: ReplyMessage
    intent: Intent
    expected: dict[str, Any]  # the labelled fields among FIELDS


@dataclass(frozen=True, slots=True)
class IntentScore:
    precision: float
    recall: float
    support: int  # how many replies carry this label


@dataclass(slots=True)
class Report:
    total: int = 0
    correct: int = 0
    reviewed: int = 0  # routed to a person
    auto_correct: int = 0  # right among those not routed to a person
    opt_outs: int = 0  # labelled opt_out
    opt_outs_safe: int = 0  # ... and classified opt_out or routed to a person
    opt_outs_chosen: int = 0  # classified opt_out
    opt_outs_right: int = 0  # ... and labelled opt_out
    per_intent: dict[Intent, IntentScore] = field(default_factory=dict)
    fields: dict[str, tuple[int, int]] = field(default_factory=dict)  # correct, labelled
    # id, expected, got (with " (review)" when a person reads it first)
    mistakes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def review_rate(self) -> float:
        return self.reviewed / self.total if self.total else 0.0

    @property
    def auto_accuracy(self) -> float:
        """Accuracy on the replies syncd handles without a person."""
        handled = self.total - self.reviewed
        return self.auto_correct / handled if handled else 1.0

    @property
    def opt_out_safety(self) -> float:
        """Share of opt-outs that are acted on as opt-outs or read by a person first."""
        return self.opt_outs_safe / self.opt_outs if self.opt_outs else 1.0

    @property
    def opt_out_precision(self) -> float:
        return self.opt_outs_right / self.opt_outs_chosen if self.opt_outs_chosen else 1.0

    def field_accuracy(self, name: str) -> float | None:
        good, seen = self.fields.get(name, (0, 0))
        return good / seen if seen else None


def load(path: Path, split: str | None = None) -> list[Labelled]:
    """The labelled replies in a JSON-lines file (only those of `split` when given)."""
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if split is not None and record.get("split") != split:
            continue
        expected = {k: record[k] for k in FIELDS if record.get(k) is not None}
        if "channels" in expected:
            expected["channels"] = sorted(expected["channels"])
        samples.append(Labelled(message_from_record(record), Intent(record["label"]), expected))
    return samples


def evaluate(samples: Iterable[Labelled], classifier: Classifier) -> Report:
    """Accuracy, per-intent precision / recall and extracted-field accuracy."""
    report = Report()
    predicted: list[tuple[Intent, Intent]] = []
    for sample in samples:
        result = classifier.classify(sample.message)
        predicted.append((sample.intent, result.intent))
        report.total += 1
        right = result.intent is sample.intent
        report.reviewed += result.review
        report.auto_correct += right and not result.review
        if sample.intent is Intent.OPT_OUT:
            report.opt_outs += 1
            report.opt_outs_safe += result.intent is Intent.OPT_OUT or result.review
        if result.intent is Intent.OPT_OUT:
            report.opt_outs_chosen += 1
            report.opt_outs_right += right
        if right:
            report.correct += 1
        else:
            got = result.intent.value + (" (review)" if result.review else "")
            report.mistakes.append((sample.message.id, sample.intent.value, got))
        produced = output_record(sample.message.id, result)
        for name, value in sample.expected.items():
            good, seen = report.fields.get(name, (0, 0))
            report.fields[name] = (good + (produced[name] == value), seen + 1)
    for intent in Intent:
        labelled = sum(1 for want, _ in predicted if want is intent)
        chosen = sum(1 for _, got in predicted if got is intent)
        hits = sum(1 for want, got in predicted if want is intent and got is intent)
        if labelled or chosen:
            report.per_intent[intent] = IntentScore(
                precision=hits / chosen if chosen else 1.0,
                recall=hits / labelled if labelled else 1.0,
                support=labelled,
            )
    return report
