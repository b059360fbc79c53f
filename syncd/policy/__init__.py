"""The follow-up policy: pure functions of (event, history, config, now).

The engine calls three functions, nothing else:

``decide(event, history, cfg, now) -> Decision``
    Once per rejection event. Applies POLICY.md's steps in order (suppression, fit, active
    conversation, out of office / auto-reply, acknowledgement, call-back by reason and worth,
    nurture cadence within the caps, entry points, cross-sell, releases, referral) and returns
    the outcome, the plan (a new generation whenever a new "no" updates it; the same one when
    the same event is decided again, so a replay writes nothing new), the suppressed channels
    and every rule that fired with its inputs. ``cancel_plan`` asks to drop the live plan; a
    ``plan`` of None with ``cancel_plan`` False leaves the live plan as it is.

``review(history, cfg, now) -> Decision | None``
    Once a day per live plan (and, optionally, for prospects dropped as not a fit: when their
    account grew into the profile, a new plan comes back). Returns None when nothing changed;
    otherwise the account no longer fits (cancel), a conversation opened (cancel), a channel
    was opted out since (touches move off it), a configured release now answers their no (a
    "we improved" touch is added with a fresh seq, existing seqs unchanged), or the call-back
    passed without a new no (the next cycle, a new generation).

``recheck(touch, history, cfg, now) -> str | None``
    Right before a touch is materialised. A dotted reason to cancel it (``suppressed.email``,
    ``suppressed.all``, ``target_suppressed``, ``not_a_fit``, ``active``,
    ``stale_acknowledgement``) or None to write it. Opt-out writes are never cancelled.

No I/O, no logging, no clock: the same input always gives the same decision.
"""

from syncd.policy.config import PolicyConfig
from syncd.policy.decision import decide
from syncd.policy.upkeep import recheck, review

__all__ = ["PolicyConfig", "decide", "recheck", "review"]
