import sys
from datetime import datetime, timezone
from syncd.replies.classify import Classifier
from syncd.replies.message import ReplyMessage
c = Classifier()
for t in sys.argv[1:]:
    m = ReplyMessage("x", datetime(2026, 3, 10, tzinfo=timezone.utc), "a@b.example", "Re: demo", {}, t)
    r = c.classify(m)
    rd = c._read(m)
    hits = {k.value: [h for h in v] for k, v in rd.hits.items()}
    print(repr(t[:80]), r.intent.value, r.review_reasons, round(r.confidence, 2), r.followup_after, r.competitor)
    print("    ", {k: [getattr(h, "quote", h) for h in v] for k, v in hits.items()})
