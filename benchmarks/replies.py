"""Reply classification on the labelled development set: accuracy, per-intent precision /
recall, extracted-field accuracy, and replies classified per second.

    python -m benchmarks.replies [--data PATH] [--json] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from syncd.model import Intent
from syncd.replies.classify import Classifier
from syncd.replies.evaluate import Labelled, Report, evaluate, load

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "replies-dev.jsonl"


def throughput(samples: list[Labelled], classifier: Classifier, seconds: float) -> float:
    """Replies classified per second, over whole passes for at least `seconds`."""
    messages = [s.message for s in samples]
    for message in messages:  # warm-up: first calls compile nothing, but fill caches
        classifier.classify(message)
    done = 0
    start = time.perf_counter()
    while True:
        for message in messages:
            classifier.classify(message)
        done += len(messages)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def summary(report: Report, rate: float, data: Path) -> dict[str, Any]:
    return {
        "data": str(data),
        "replies": report.total,
        "accuracy": round(report.accuracy, 4),
        "per_intent": {
            intent.value: {
                "precision": round(score.precision, 4),
                "recall": round(score.recall, 4),
                "support": score.support,
            }
            for intent, score in report.per_intent.items()
        },
        "fields": {
            name: {"correct": good, "labelled": seen}
            for name, (good, seen) in report.fields.items()
        },
        "mistakes": [
            {"id": ident, "expected": want, "got": got} for ident, want, got in report.mistakes
        ],
        "replies_per_second": round(rate),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replies", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled JSON lines")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seconds", type=float, default=3.0, help="throughput run length")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no labelled replies at {args.data} (pass --data PATH)", file=sys.stderr)
        return 2
    samples = load(args.data)
    classifier = Classifier()
    report = evaluate(samples, classifier)
    rate = throughput(samples, classifier, args.seconds)
    result = summary(report, rate, args.data.resolve())
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"replies: {report.total}   accuracy: {report.accuracy:.3f}   replies/s: {rate:,.0f}")
    print(f"{'intent':<16}{'precision':>10}{'recall':>10}{'support':>9}")
    for intent in Intent:
        score = report.per_intent.get(intent)
        if score is not None:
            print(
                f"{intent.value:<16}{score.precision:>10.3f}{score.recall:>10.3f}{score.support:>9}"
            )
    for name, (good, seen) in report.fields.items():
        print(f"field {name:<15} {good}/{seen} correct")
    for ident, want, got in report.mistakes:
        print(f"mistake {ident}: expected {want}, got {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
