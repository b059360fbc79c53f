"""What the rep brings when they come back: a release that answers the no, another product line.

The seeds' value-added return: the people who said no buy when the product has improved and
others have vouched for it, or when a different need comes up. Releases match a prospect by
the policy reason or by tags found in the CRM reason text or their own words ("no SSO").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from syncd.model import Account, ReasonKind, RejectionEvent
from syncd.policy.config import PolicyConfig, ProductLine
from syncd.policy.prepared import PreparedRelease, normalise_text


@lru_cache(maxsize=1024)
def _tag_pattern(tag: str) -> re.Pattern[str]:
    return re.compile(r"\b" + re.escape(tag) + r"\b")


def release_matches(prepared: PreparedRelease, reason: ReasonKind, text: str) -> bool:
    """Does the release address this reason, or a tag in the (normalised) reason text?"""
    if reason in prepared.reasons:
        return True
    return bool(text) and any(_tag_pattern(tag).search(text) for tag in prepared.tags)


def reason_text(event: RejectionEvent) -> str:
    """The text tags are looked for in: the CRM reason value and the prospect's words."""
    parts = [p for p in (event.reason_raw, event.quote) if p]
    return normalise_text(" ".join(parts)) if parts else ""


def matching_releases(
    reason: ReasonKind, text: str, cfg: PolicyConfig
) -> tuple[PreparedRelease, ...]:
    """Releases that answer this no, oldest first."""
    releases = cfg.prepared.releases
    if not releases:
        return ()
    return tuple(r for r in releases if release_matches(r, reason, text))


def cross_sell(account: Account | None, cfg: PolicyConfig) -> tuple[ProductLine, ...]:
    """Configured product lines the account has not been offered yet."""
    lines = cfg.prepared.product_lines
    if not lines:
        return ()
    offered = {normalise_text(p) for p in account.products_offered} if account else set()
    return tuple(line for key, line in lines if key not in offered)


@dataclass(slots=True)
class Angles:
    """Everything the rep can bring that is new to the prospect."""

    releases: tuple[PreparedRelease, ...]  # releases after their no that answer it
    cross_sell: tuple[ProductLine, ...]
    case_study: str  # "a company in <industry> of about <n> employees"

    def describe(self) -> list[str]:
        lines: list[str] = []
        for prepared in self.releases:
            release = prepared.release
            proof = f" Proof: {release.proof_point}" if release.proof_point else ""
            lines.append(
                f"Release “{release.title}” ({release.date.isoformat()}) answers their reason."
                f"{proof}"
            )
        if self.cross_sell:
            offers = "; ".join(
                f"{line.name} ({line.pitch})" if line.pitch else line.name
                for line in self.cross_sell
            )
            lines.append(f"Cross-sell, not offered to this account yet: {offers}.")
        lines.append(f"Case study: {self.case_study}.")
        return lines


def case_study_hint(account: Account | None) -> str:
    """Which customer story fits: same industry or size (the seeds' outside validation)."""
    if account is None:
        return "a customer similar to them"
    parts: list[str] = []
    if account.industry:
        parts.append(f"in {account.industry}")
    if account.employees:
        parts.append(f"of about {account.employees} employees")
    return "a customer " + " ".join(parts) if parts else "a customer similar to them"
