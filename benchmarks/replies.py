"""Reply classification on the shared development set, the corpus's held-out split and the
probe set (replies written as mail clients deliver them, in seven languages; nothing is fitted
to it).

    python -m benchmarks.replies [--data PATH] [--corpus PATH] [--split heldout] [--probe PATH]
                                 [--json] [--seconds S] [--mistakes]

For each set: opt-out safety (share of opt-outs classified opt_out or routed to review),
opt-out precision, accuracy on the replies not routed to review ("auto-handled"), the review
rate, overall accuracy, return-date accuracy, and replies classified per second (the whole
classify path, per CPU second of one core). Targets: safety 1.0, precision >= 0.95,
auto-handled accuracy >= 0.95 with <= 25 % review, return dates >= 0.8, >= 1,000 replies/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from syncd.replies.classify import Classifier
from syncd.replies.evaluate import Labelled, Report, evaluate, load

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "replies-dev.jsonl"
DEFAULT_CORPUS = ROOT / "data" / "replies" / "corpus.jsonl"
DEFAULT_PROBE = ROOT / "data" / "replies" / "probe.jsonl"
TARGETS = {
    "opt_out_safety": (1.0, ">="),
    "opt_out_precision": (0.95, ">="),
    "auto_accuracy": (0.95, ">="),
    "review_rate": (0.25, "<="),
    "return_date_accuracy": (0.8, ">="),
    "replies_per_second": (1000, ">="),
}


def throughput(samples: list[Labelled], classifier: Classifier, seconds: float) -> float:
    """Replies classified per CPU second of this process, over whole passes.

    CPU time, not wall time: on a shared machine the wall clock also counts the time other
    processes held the core; one process is one core, so this is replies/s on one core.
    """
    messages = [s.message for s in samples]
    for message in messages:  # warm-up: fill caches
        classifier.classify(message)
    done = 0
    start = time.process_time()
    while True:
        for message in messages:
            classifier.classify(message)
        done += len(messages)
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return done / elapsed


def summary(name: str, report: Report, rate: float, data: Path) -> dict[str, Any]:
    return_dates = report.field_accuracy("return_date")
    return {
        "set": name,
        "data": str(data),
        "replies": report.total,
        "opt_outs": report.opt_outs,
        "opt_out_safety": round(report.opt_out_safety, 4),
        "opt_out_precision": round(report.opt_out_precision, 4),
        "auto_accuracy": round(report.auto_accuracy, 4),
        "review_rate": round(report.review_rate, 4),
        "accuracy": round(report.accuracy, 4),
        "return_date_accuracy": None if return_dates is None else round(return_dates, 4),
        "replies_per_second": round(rate),
        "fields": {name: {"correct": g, "labelled": n} for name, (g, n) in report.fields.items()},
        "mistakes": [{"id": i, "expected": want, "got": got} for i, want, got in report.mistakes],
    }


def _verdict(key: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    target, op = TARGETS[key]
    ok = value >= target if op == ">=" else value <= target
    return "ok" if ok else f"MISSES {op} {target}"


def show(result: dict[str, Any], mistakes: bool) -> None:
    print(f"== {result['set']}: {result['replies']} replies ({result['data']})")
    for key in TARGETS:
        value = result[key]
        shown = "n/a" if value is None else f"{value:,}" if key == "replies_per_second" else value
        print(f"  {key:<22}{shown!s:>10}   {_verdict(key, value)}")
    print(f"  {'accuracy (all)':<22}{result['accuracy']:>10}")
    for name, counts in result["fields"].items():
        print(f"  field {name:<16}{counts['correct']}/{counts['labelled']}")
    if mistakes:
        for m in result["mistakes"]:
            print(f"  mistake {m['id']}: expected {m['expected']}, got {m['got']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replies", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="development set")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="labelled corpus")
    parser.add_argument("--split", default="heldout", help="corpus split to measure")
    parser.add_argument("--probe", type=Path, default=DEFAULT_PROBE, help="held-out probe set")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seconds", type=float, default=3.0, help="throughput run length")
    parser.add_argument("--mistakes", action="store_true", help="list every mistake")
    args = parser.parse_args(argv)
    sets: list[tuple[str, Path, list[Labelled]]] = []
    if args.data.exists():
        sets.append(("development set", args.data.resolve(), load(args.data)))
    else:
        print(f"no development set at {args.data} (pass --data PATH)", file=sys.stderr)
    if args.corpus.exists():
        sets.append((f"corpus {args.split}", args.corpus, load(args.corpus, args.split)))
    else:
        print(f"no corpus at {args.corpus} (pass --corpus PATH)", file=sys.stderr)
    if args.probe.exists():
        sets.append(("probe set", args.probe, load(args.probe)))
    if not sets:
        return 2
    classifier = Classifier()
    results = []
    for name, path, samples in sets:
        report = evaluate(samples, classifier)
        rate = throughput(samples, classifier, args.seconds)
        results.append(summary(name, report, rate, path))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for result in results:
        show(result, args.mistakes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
