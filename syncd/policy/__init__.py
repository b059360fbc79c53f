"""The follow-up policy: pure functions of (event, history, config, now).

The engine calls three functions, nothing else:

``decide(event, history, cfg, now) -> Decision``
    Once per rejection event. Applies POLICY.md's steps in order (suppression, fit, replies
    that are no "no", active conversation, acknowledgement, call-back by reason and worth,
    nurture cadence within the caps, entry points, cross-sell, releases, referral) and returns
    the outcome, the plan, the suppressed channels and every rule that fired with its inputs.
    ``cancel_plan`` asks to drop the live plan; a ``plan`` of None with ``cancel_plan`` False
    leaves the live plan as it is. The n-th rejection of a prospect makes plan generation n
    (``max(live generation, earlier rejections) + 1``), so generations only grow; deciding the
    latest event again returns the same plan (same generation and seqs: nothing new to write).
    A plan's touches are numbered from 0.

``review(history, cfg, now) -> Decision | None``
    Once a day per live plan, after the cycle's materialisation (and, optionally, for
    prospects dropped as not a fit: when the account grew into the profile a plan comes
    back). None when nothing changed; otherwise the account no longer fits or a conversation
    opened (cancel), a channel was opted out since (touches move off it), a configured release
    now answers their no (a "we improved" touch), or the call-back passed without a new no
    (the next cycle). Revisions keep the generation; touches due within the horizon are
    carried over as they are, later ones are issued again under seqs from a block of their
    own (100 per day since 2000-01-01), because the store never reuses a seq.

``recheck(touch, history, cfg, now) -> str | None``
    Right before a touch is materialised. A dotted reason to cancel it (``suppressed.email``,
    ``suppressed.all``, ``target_suppressed``, ``not_a_fit``, ``active``,
    ``stale_acknowledgement``) or None to write it. Opt-out writes are never cancelled. Pass
    the directory's current prospect as ``history.prospect`` (fit is judged on it) and the
    colleagues when a touch has a ``target``.

No I/O, no logging, no clock: the same input always gives the same decision.
"""

from syncd.policy.config import PolicyConfig
from syncd.policy.decision import decide
from syncd.policy.upkeep import recheck, review

__all__ = ["PolicyConfig", "decide", "recheck", "review"]
