"""Re-engagement detection: a nurtured prospect came back, so the nurture ends.

Two signals are read. A new open opportunity or deal on a nurtured prospect's account comes
from the connector's `reengagements` role, read incrementally on its own cursor (next to
the source's) within the cycle, one query per page. An `interested` reply from a nurtured
prospect comes through the normal read: the policy already stops the nurture and tells the
owner; here it is also recorded as an outcome. Each is attributed (syncd/attribution.py) and
stored with the cursor in one transaction, so a crash records nothing twice and loses nothing.

Connected calls and meetings are not read: neither CRM marks "connected" in a standard field
(Salesforce's CallDisposition and HubSpot's call dispositions are per-org picklists), and
reading every logged activity would cost a scan of activities each cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import structlog

from syncd.attribution import attribute
from syncd.connectors import Reengagements
from syncd.model import (
    INTERESTED_REPLY,
    NEW_OPPORTUNITY,
    Decision,
    History,
    Intent,
    Outcome,
    Reengagement,
    RejectionEvent,
    Touch,
)
from syncd.owners import plan_owner
from syncd.policy import PolicyConfig
from syncd.store import Store, StoredHistory
from syncd.store.outcomes import reengagement_cursor

log = structlog.get_logger(__name__)


def made_touches(stored: StoredHistory | None) -> list[Touch]:
    """The touches syncd handed to the CRM or mailbox for this person."""
    return [t for t, state in (stored.touches if stored else ()) if state == "materialised"]


def _owner_id(stored: StoredHistory | None) -> str | None:
    owner = plan_owner(stored.plan_context) if stored else None
    if owner is None and stored is not None and stored.prospect and stored.prospect.owner:
        return stored.prospect.owner.id
    return owner.id if owner else None


def _attributed(
    key: str,
    known: StoredHistory | None,
    *,
    source_ref: str,
    kind: str,
    occurred_at: datetime,
    amount: float | None,
    cfg: PolicyConfig,
) -> Reengagement:
    """The outcome of a person who came back, from what the store knows of them."""
    return attribute(
        prospect_key=key,
        source_ref=source_ref,
        kind=kind,
        occurred_at=occurred_at,
        made=made_touches(known),
        rejections=known.rejections if known else (),
        owner_id=_owner_id(known),
        amount=amount,
        cfg=cfg,
    )


def interested_replies(
    stored: Mapping[str, StoredHistory],
    decided: Sequence[tuple[RejectionEvent, Decision, History]],
    cfg: PolicyConfig,
) -> list[Reengagement]:
    """The page's interested replies from prospects who had a live plan: outcomes
    (`stored`: what the store knew of the page's people before it)."""
    return [
        _attributed(
            event.prospect.ref.key,
            stored.get(event.prospect.ref.key),
            source_ref=event.event_id,
            kind=INTERESTED_REPLY,
            occurred_at=event.occurred_at,
            amount=None,
            cfg=cfg,
        )
        for event, decision, history in decided
        if history.plan is not None
        and decision.outcome is Outcome.ACTIVE
        and event.reply is not None
        and event.reply.intent is Intent.INTERESTED
    ]


def read_new_opportunities(
    store: Store,
    shard: str,
    epoch: int,
    reader: Reengagements,
    until: datetime,
    cfg: PolicyConfig,
    heartbeat: Callable[[], None] = lambda: None,
) -> list[Reengagement]:
    """Read new open opportunities since the shard's re-engagement cursor; record the ones on
    nurtured accounts as outcomes (ending their nurture). Returns what was recorded."""
    cursor = store.cursor(reengagement_cursor(shard))
    recorded: list[Reengagement] = []
    for page in reader.new_opportunities(cursor, until):
        by_account = store.nurtured_at([o.account.key for o in page.opportunities])
        keys = sorted({k for keys in by_account.values() for k in keys})
        stored = store.history(keys)
        found = []
        for opp in page.opportunities:
            found += [
                _attributed(
                    key,
                    stored.get(key),
                    source_ref=opp.id,
                    kind=NEW_OPPORTUNITY,
                    occurred_at=opp.created_at,
                    amount=opp.amount,
                    cfg=cfg,
                )
                for key in by_account.get(opp.account.key, ())
            ]
        store.commit_reengagements(shard, epoch, page.cursor, found)
        for r in found:
            log.info(
                "outcome.reengaged",
                shard=shard,
                prospect=r.prospect_key,
                kind=r.kind,
                source_ref=r.source_ref,
                loss_reason=r.loss_reason,
                worth_tier=r.worth_tier,
            )
        recorded.extend(found)
        heartbeat()
    return recorded
