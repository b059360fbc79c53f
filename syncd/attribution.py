"""Attribution of a re-engagement: what the nurture did before a prospect came back.

Plain and documented, nothing opaque: the **last touch** syncd made before the re-engagement,
and **any touch** made within `[policy.outcomes] attribution_window_days` before it, each with
the rule that scheduled it. With them: the original loss's reason and competitor, its worth
tier (the call-back's amount tiers), and the new opportunity's amount. A touch counts as made
once it was materialised (handed to the CRM or mailbox) and was due by the re-engagement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from syncd.model import Reengagement, RejectionEvent, Touch
from syncd.policy.config import PolicyConfig, WorthTier
from syncd.policy.reasons import resolve_reason

UNKNOWN = "unknown"


def worth_tier(amount: float | None, tiers: Sequence[WorthTier]) -> str:
    """A bounded label for the amount: the first matching call-back tier, e.g. ">=100000"."""
    if amount is None:
        return UNKNOWN
    for tier in tiers:
        if tier.matches(amount):
            low = f">={tier.at_least:g}" if tier.at_least is not None else ""
            high = f"<{tier.below:g}" if tier.below is not None else ""
            return ",".join(p for p in (low, high) if p)
    return "other"


def _touch(touch: Touch) -> dict[str, Any]:
    return {
        "kind": touch.kind.value,
        "channel": touch.channel.value,
        "rule": touch.rule_id,
        "due": touch.due.isoformat(),
    }


def attribute(
    *,
    prospect_key: str,
    source_ref: str,
    kind: str,
    occurred_at: datetime,
    made: Sequence[Touch],
    rejections: Sequence[RejectionEvent],
    owner_id: str | None,
    amount: float | None,
    cfg: PolicyConfig,
) -> Reengagement:
    """The outcome record for a prospect who came back at `occurred_at`.

    `made` are the touches syncd made for them (materialised), `rejections` their "no"s,
    oldest first: the last one before the re-engagement is the loss it answers.
    """
    day: date = occurred_at.date()
    before = sorted((t for t in made if t.due <= day), key=lambda t: (t.due, t.seq))
    window_start = day - timedelta(days=cfg.outcomes.attribution_window_days)
    loss = next((e for e in reversed(rejections) if e.occurred_at <= occurred_at), None)
    if loss is None and rejections:
        loss = rejections[-1]
    reason = resolve_reason(loss, cfg)[0].value if loss is not None else UNKNOWN
    competitor = loss.competitor if loss is not None else None
    lost_amount = next((e.amount for e in reversed(rejections) if e.amount is not None), None)
    return Reengagement(
        prospect_key=prospect_key,
        source_ref=source_ref,
        kind=kind,
        occurred_at=occurred_at,
        lost_at=loss.occurred_at if loss is not None else None,
        owner_id=owner_id,
        loss_reason=reason,
        competitor=competitor,
        worth_tier=worth_tier(lost_amount, cfg.callback.worth_tiers),
        amount=amount,
        attribution={
            "rule": "last_touch+any_touch",
            "window_days": cfg.outcomes.attribution_window_days,
            "last_touch": _touch(before[-1]) if before else None,
            "any_touch": [_touch(t) for t in before if t.due >= window_start],
            "touches_made": len(before),
        },
    )
