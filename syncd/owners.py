"""Who gets the task: the owner of the record that said no, or the configured fallback.

The record's owner is the opportunity or deal owner, the lead owner, and for a reply the rep
whose mailbox received it (`[shards.MAILBOX] owner`). A deactivated owner, or a queue (which
cannot own a task), falls back in the CRM shard's `owner_fallback` order: the account owner,
then `fallback_owner` (a user or a queue). The chosen owner travels with the prospect into the
policy, so touch dates are placed in the calendar of the person who gets them, and is kept in
the plan's context, so the write assigns exactly that person: a fresh directory read at write
time would name the contact's owner, often an API integration user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import structlog

from syncd.config import ShardConfig
from syncd.connectors import Directory
from syncd.model import Owner, Prospect, RejectionEvent, SourceKind

log = structlog.get_logger(__name__)

RECORD = "record_owner"


def _candidates(
    event: RejectionEvent, mailbox: ShardConfig, crm: ShardConfig
) -> list[tuple[str, str]]:
    """(how, user id) in the order tried."""
    record = event.prospect.owner.id if event.prospect.owner else None
    if event.source is SourceKind.REPLY and mailbox.owner:
        record = mailbox.owner
    out = [(RECORD, record)] if record else []
    account = event.prospect.account
    for step in crm.owner_fallback:
        if step == "account_owner" and account is not None and account.owner_id:
            out.append((step, account.owner_id))
        elif step == "fallback_owner" and crm.fallback_owner:
            out.append((step, crm.fallback_owner))
    return out


def assign_owners(
    shard: str,
    events: Sequence[RejectionEvent],
    directory: Directory | None,
    mailbox: ShardConfig,
    crm: ShardConfig,
) -> list[tuple[RejectionEvent, str]]:
    """Each event with its prospect's owner set to the assignee, and how it was chosen.

    One directory look-up for the whole page. Without an owner directory (or when it knows
    none of the candidates) the record's owner stays as the connector gave it.
    """
    chains = [_candidates(e, mailbox, crm) for e in events]
    lookup = getattr(directory, "owners", None)
    ids = sorted({uid for chain in chains for _, uid in chain})
    known: dict[str, Owner] = lookup(ids) if callable(lookup) and ids else {}
    out: list[tuple[RejectionEvent, str]] = []
    for event, chain in zip(events, chains, strict=True):
        chosen: tuple[str, Owner] | None = None
        for how, uid in chain:
            owner = known.get(uid)
            if owner is None or not owner.active:
                continue
            if owner.is_queue and how != "fallback_owner":
                continue  # a queue cannot own a task unless the admin named it
            chosen = (how, owner)
            break
        if chosen is None:
            record = next((uid for how, uid in chain if how == RECORD), None)
            queue = record is not None and record in known and known[record].is_queue
            if callable(lookup) and chain and not queue:  # a queue's sink has its own fallback
                log.warning("owner.unresolved", shard=shard, event_id=event.event_id, owner=record)
            if record and (event.prospect.owner is None or event.prospect.owner.id != record):
                event = replace(event, prospect=replace(event.prospect, owner=Owner(record)))
            out.append((event, RECORD))
            continue
        how, owner = chosen
        if how != RECORD:
            log.info(
                "owner.fallback",
                shard=shard,
                event_id=event.event_id,
                inactive=next((uid for h, uid in chain if h == RECORD), None),
                owner=owner.id,
                via=how,
            )
        if event.prospect.owner != owner:
            event = replace(event, prospect=replace(event.prospect, owner=owner))
        out.append((event, how))
    return out


def owner_context(prospect: Prospect, how: str) -> dict[str, Any]:
    """The plan-context entry that fixes the assignee for every write of the plan."""
    owner = prospect.owner
    if owner is None:
        return {}
    return {
        "owner": {"id": owner.id, "timezone": owner.timezone, "is_queue": owner.is_queue},
        "owner_via": how,
    }


def plan_owner(context: dict[str, Any]) -> Owner | None:
    raw = context.get("owner")
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    return Owner(str(raw["id"]), str(raw.get("timezone") or "UTC"), bool(raw.get("is_queue")))


def with_plan_owner(prospect: Prospect | None, context: dict[str, Any]) -> Prospect | None:
    """The prospect as the plan sees it: a fresh directory read keeps the plan's assignee."""
    owner = plan_owner(context)
    if prospect is None or owner is None or prospect.owner == owner:
        return prospect
    return replace(prospect, owner=owner)
