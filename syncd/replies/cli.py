"""`syncd classify [FILE]`: classify replies from a file or standard input, one JSON line each."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from syncd.model import ALL_CHANNELS
from syncd.replies.classify import Classifier
from syncd.replies.config import RepliesConfig
from syncd.replies.inputs import BadRecord, read_messages
from syncd.replies.message import Classification

EX_OK = 0
EX_FAILURE = 1  # a reply could not be classified (a fault in syncd, not in the input)
EX_DATAERR = 65  # sysexits.h: some input records were malformed
EX_NOINPUT = 66  # sysexits.h: the input file could not be read


def run_classify(path: str | None, config: RepliesConfig, out: TextIO) -> int:
    """Classify every reply in FILE (or stdin for None / "-"); bad records go to stderr."""
    try:
        if path is None or path == "-":
            data, name = sys.stdin.buffer.read(), None
        else:
            with open(path, "rb") as handle:
                data, name = handle.read(), path
    except OSError as exc:
        print(f"syncd classify: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EX_NOINPUT
    classifier = Classifier(config)
    source = name or "<stdin>"
    bad = failed = 0
    for number, item in enumerate(read_messages(data, name), start=1):
        if isinstance(item, BadRecord):
            bad += 1
            print(f"syncd classify: {source}: {item.where}: {item.reason}", file=sys.stderr)
            continue
        try:
            record = output_record(item.id, classifier.classify(item))
        except Exception as exc:  # one reply must not stop the others; the cause is named
            failed += 1
            print(
                f"syncd classify: {source}: record {number} ({item.id[:80]!r}): "
                f"could not be classified ({type(exc).__name__})",
                file=sys.stderr,
            )
            continue
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
    out.flush()
    if failed:
        return EX_FAILURE
    return EX_DATAERR if bad else EX_OK


def output_record(message_id: str, c: Classification) -> dict[str, Any]:
    """The JSON shape of one classification (dates as YYYY-MM-DD, absent fields null)."""
    return {
        "id": message_id,
        "intent": c.intent.value,
        "channels": channel_names(c),
        "return_date": c.return_date.isoformat() if c.return_date else None,
        "followup_after": c.followup_after.isoformat() if c.followup_after else None,
        "referral_email": c.referral_email,
        "competitor": c.competitor,
        "evidence": list(c.evidence),
        "confidence": c.confidence,
        "review": c.review,
        "review_reasons": list(c.review_reasons),
    }


def channel_names(c: Classification) -> list[str]:
    """Sorted channel names; every channel at once is written as ["all"], as POLICY names it."""
    if c.channels == ALL_CHANNELS:
        return ["all"]
    return sorted(channel.value for channel in c.channels)
