"""Prints each mistake of a labelled set with the new text and the classifier's reading."""
import json, sys
from pathlib import Path
from syncd.replies.classify import Classifier
from syncd.replies.cli import output_record
from syncd.replies.evaluate import load, FIELDS

path = Path(sys.argv[1]); fieldcheck = "--fields" in sys.argv
c = Classifier()
for s in load(path):
    r = c.classify(s.message)
    out = output_record(s.message.id, r)
    bad_fields = {k: (v, out.get(k)) for k, v in s.expected.items() if out.get(k) != v}
    if r.intent is s.intent and not (fieldcheck and bad_fields):
        continue
    print(f"--- {s.message.id} want {s.intent.value} got {out['intent']} review={out.get('review_reasons')} conf={out.get('confidence')}")
    print("   ", {k: out.get(k) for k in ("evidence",)}, bad_fields)
    print("   ", s.message.body.split("\n\n")[0:3])
