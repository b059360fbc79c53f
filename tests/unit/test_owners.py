"""Who gets the task: the record's owner, else the configured fallbacks, in order."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.config import ShardConfig
from syncd.model import Owner, RejectionEvent, SourceKind
from syncd.owners import assign_owners, owner_context, plan_owner
from tests.conftest import rejection

CRM = ShardConfig(type="fake", fallback_owner="005OPS")
USERS = ("005REP", "005AM", "005OPS", "00GQUEUE")


class Users:
    """An owner directory: which users exist, which are active, in which zone."""

    def __init__(self, active: set[str]):
        self.active = active
        self.calls = 0

    def owners(self, ids: Sequence[str]) -> dict[str, Owner]:
        self.calls += 1
        return {
            i: Owner(i, "Asia/Tokyo", is_queue=i.startswith("00G"), active=i in self.active)
            for i in ids
        }


def _event(owner: str, account_owner: str | None = "005AM") -> RejectionEvent:
    event = rejection(1)
    assert event.prospect.account is not None
    account = dataclasses.replace(event.prospect.account, owner_id=account_owner)
    prospect = dataclasses.replace(event.prospect, owner=Owner(owner), account=account)
    return dataclasses.replace(event, prospect=prospect)


def test_an_active_record_owner_keeps_the_task_with_their_time_zone() -> None:
    """The deal owner is active: theirs, with the zone the CRM gives them."""
    ((event, how),) = assign_owners("crm", [_event("005REP")], Users(set(USERS)), CRM, CRM)
    assert (event.prospect.owner, how) == (Owner("005REP", "Asia/Tokyo"), "record_owner")
    assert plan_owner(owner_context(event.prospect, how)) == event.prospect.owner


def test_the_fallbacks_are_tried_in_the_configured_order() -> None:
    """Deactivated deal owner: the account owner; with them gone too, the named user; a
    queue as the record's owner is passed over like an inactive user."""
    users = Users({"005AM", "005OPS"})
    events = [_event("005REP"), _event("005REP", "005GONE"), _event("00GQUEUE")]
    got = assign_owners("crm", events, users, CRM, CRM)
    assert [(e.prospect.owner.id, how) for e, how in got if e.prospect.owner] == [
        ("005AM", "account_owner"),
        ("005OPS", "fallback_owner"),
        ("005AM", "account_owner"),
    ]
    assert users.calls == 1  # one look-up for the whole page
    only_named = ShardConfig(
        type="fake", fallback_owner="005OPS", owner_fallback=("fallback_owner",)
    )
    ((event, how),) = assign_owners("crm", [_event("005REP")], users, only_named, only_named)
    assert (event.prospect.owner.id if event.prospect.owner else None, how) == (
        "005OPS",
        "fallback_owner",
    )


def test_a_reply_belongs_to_the_mailbox_rep() -> None:
    """A reply's record owner is the mailbox's rep, whoever owns the contact."""
    reply = dataclasses.replace(_event("005AM"), source=SourceKind.REPLY)
    mailbox = ShardConfig(type="gmail", crm="crm", owner="005REP")
    ((event, _),) = assign_owners("gm", [reply], Users(set(USERS)), mailbox, CRM)
    assert event.prospect.owner is not None and event.prospect.owner.id == "005REP"


@settings(max_examples=60, deadline=None)
@given(active=st.sets(st.sampled_from(USERS)), owner=st.sampled_from(USERS))
def test_the_assignee_is_the_first_active_candidate(active: set[str], owner: str) -> None:
    """Whatever is active, the task goes to the first usable candidate in order (a queue only
    when the admin named it), or stays with the record's owner when none is usable."""
    ((event, _),) = assign_owners("crm", [_event(owner)], Users(active), CRM, CRM)
    usable = [
        uid
        for uid, step in ((owner, "record"), ("005AM", "account"), ("005OPS", "named"))
        if uid in active and (not uid.startswith("00G") or step == "named")
    ]
    assert event.prospect.owner is not None
    assert event.prospect.owner.id == (usable[0] if usable else owner)
