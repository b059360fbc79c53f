"""The classifier against hand-written held-out replies (`data/replies/hand.jsonl`, ids "hp…").

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
