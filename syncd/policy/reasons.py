"""Why they said no, in the policy's terms.

Each CRM words its loss reasons and lead statuses its own way ("Lost to Competitor",
`BAD_TIMING`, "Price"), and connectors pass the raw value through. The mapping lives in the
config so an admin can teach syncd their org's picklist without a release.
"""

from __future__ import annotations

from syncd.model import Intent, ReasonKind, RejectionEvent, RuleHit
from syncd.policy.config import PolicyConfig
from syncd.policy.prepared import normalise_text

_REPLY_REASONS = {
    Intent.NOT_NOW: ReasonKind.NOT_NOW,
    Intent.COMPETITOR: ReasonKind.COMPETITOR,
    Intent.NOT_INTERESTED: ReasonKind.NOT_INTERESTED,
    Intent.OPT_OUT: ReasonKind.NOT_INTERESTED,
    Intent.REFERRAL: ReasonKind.NOT_INTERESTED,
}


def map_reason_text(raw: str, cfg: PolicyConfig) -> tuple[ReasonKind, str] | None:
    """The reason for a CRM value and how it matched ("value" / "keyword"), or None."""
    prep = cfg.prepared
    key = normalise_text(raw)
    if not key:
        return None
    exact = prep.reason_values.get(key)
    if exact is not None:
        return exact, "value"
    for keyword, reason in prep.reason_keywords:
        if keyword in key:
            return reason, "keyword"
    return None


def resolve_reason(event: RejectionEvent, cfg: PolicyConfig) -> tuple[ReasonKind, RuleHit]:
    """The event's reason: connector's, else the mapped CRM value, else the reply, else fallback.

    A hostile reply turns a plain "not interested" into `hostile`: same timing (they still get
    the call), but the rep should know what they walk into.
    """
    reply = event.reply
    raw = event.reason_raw
    reason: ReasonKind | None = event.reason
    source = "connector"
    if reason is None and raw:
        mapped = map_reason_text(raw, cfg)
        if mapped is not None:
            reason, source = mapped[0], f"mapping.{mapped[1]}"
    if reason is None and reply is not None:
        reason = _REPLY_REASONS.get(reply.intent)
        source = "reply"
    if reason is None and (event.competitor or (reply and reply.competitor)):
        reason, source = ReasonKind.COMPETITOR, "competitor_named"
    if reason is None:
        reason, source = cfg.reasons.fallback, "fallback"
    if reason is ReasonKind.NOT_INTERESTED and reply is not None and reply.hostile:
        reason, source = ReasonKind.HOSTILE, f"{source}+hostile_reply"
    hit = RuleHit(
        "reason.resolved",
        {"reason": reason.value, "source": source, "raw": raw, "intent": _intent(event)},
    )
    return reason, hit


def _intent(event: RejectionEvent) -> str | None:
    return event.reply.intent.value if event.reply else None
