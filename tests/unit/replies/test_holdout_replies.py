"""The classifier against hand-written held-out replies (`data/replies/hand.jsonl`, "hp…", "hq…").

160 replies in seven languages written before the phrase tables were read and never used to
change them: indirect refusals, short deferrals, casual interest, referrals, auto-replies.
"""

from __future__ import annotations

from pathlib import Path

from syncd.replies import Classifier
from syncd.replies.evaluate import Labelled, evaluate, load

HAND = Path(__file__).resolve().parents[3] / "data" / "replies" / "hand.jsonl"


def held_out() -> list[Labelled]:
    return [s for s in load(HAND, "heldout") if s.message.id.startswith("hp")]


def test_every_opt_out_in_the_held_out_replies_is_safe() -> None:
    report = evaluate(held_out(), Classifier())
    assert report.opt_outs >= 16
    assert report.opt_out_safety == 1.0, report.mistakes


def test_held_out_reply_accuracy_does_not_regress() -> None:
    """At least 84 % get their labelled intent (0.86 measured)."""
    report = evaluate(held_out(), Classifier())
    assert report.total == 160
    assert report.accuracy >= 0.84, report.mistakes


def second_probe() -> list[Labelled]:
    """165 replies ("hq…") in seven languages written blind, like the "hp" set: polite
    refusals, indirect opt-outs, sick-leave notices with a contact desk, forwarding referrals
    and opt-out words used in another sense ("drop me an email", "stop by our booth")."""
    return [s for s in load(HAND, "heldout") if s.message.id.startswith("hq")]


def test_every_opt_out_in_the_second_probe_is_safe() -> None:
    report = evaluate(second_probe(), Classifier())
    assert report.opt_outs >= 22
    assert report.opt_out_safety == 1.0, report.mistakes


def test_second_probe_accuracy_and_review_rate_do_not_regress() -> None:
    """At least 86 % right (0.88 measured) with at most 25 % read by a person (0.23)."""
    report = evaluate(second_probe(), Classifier())
    assert report.total == 165
    assert report.accuracy >= 0.86, report.mistakes
    assert report.review_rate <= 0.25
    assert report.auto_accuracy >= 0.98, report.mistakes
