"""The classifier against the shared labelled development set."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.model import Intent
from syncd.replies import Classifier
from syncd.replies.evaluate import evaluate, load

DEV_SET = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "replies-dev.jsonl"


@pytest.mark.skipif(not DEV_SET.exists(), reason=f"no development set at {DEV_SET}")
def test_dev_set_accuracy_and_opt_out_recall() -> None:
    """Accuracy is at least 0.90, every opt-out is found, and opt-out precision is >= 0.95."""
    report = evaluate(load(DEV_SET), Classifier())
    opt_out = report.per_intent[Intent.OPT_OUT]
    assert report.accuracy >= 0.90, report.mistakes
    assert opt_out.recall == 1.0, report.mistakes
    assert opt_out.precision >= 0.95, report.mistakes
