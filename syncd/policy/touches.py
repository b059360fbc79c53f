"""Which channel a touch uses, and which known touches still stand when a plan is replaced."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from syncd.model import Channel, History, TaskChannel, TouchKind, TouchRecord

TASK_CHANNEL = {
    Channel.EMAIL: TaskChannel.EMAIL,
    Channel.PHONE: TaskChannel.CALL,
    Channel.LINKEDIN: TaskChannel.LINKEDIN,
    Channel.MAIL: TaskChannel.TODO,
}
# Touch kinds that are not contact with a person, so they don't count against the caps: a
# CRM flag, an alert for the owner, a campaign membership, a reply for the owner to read.
NOT_CONTACT: frozenset[TouchKind] = frozenset(
    {TouchKind.OPT_OUT, TouchKind.URGENT, TouchKind.ENROL, TouchKind.REVIEW}
)

_PREFERENCE: dict[TouchKind, tuple[Channel, ...]] = {
    TouchKind.THANK_YOU: (Channel.EMAIL, Channel.LINKEDIN, Channel.MAIL, Channel.PHONE),
    TouchKind.CALLBACK: (Channel.PHONE, Channel.EMAIL, Channel.LINKEDIN, Channel.MAIL),
    TouchKind.CHECK_IN: (Channel.EMAIL, Channel.PHONE, Channel.LINKEDIN),
    TouchKind.RELEASE: (Channel.EMAIL, Channel.PHONE, Channel.LINKEDIN, Channel.MAIL),
    TouchKind.GATEKEEPER: (Channel.PHONE, Channel.EMAIL),
    TouchKind.REFERRAL: (Channel.EMAIL, Channel.PHONE, Channel.LINKEDIN),
    TouchKind.ENTRY_POINT: (Channel.EMAIL, Channel.PHONE, Channel.LINKEDIN),
    TouchKind.URGENT: (Channel.EMAIL, Channel.PHONE),
}


_CHANNEL_BIT = {channel: 1 << index for index, channel in enumerate(Channel)}
# The 16 possible sets of open channels, built once: the same objects every decision, so
# memo tables keyed on them hit on identity instead of comparing enum members.
_OPEN_BY_MASK = tuple(
    frozenset(c for c, bit in _CHANNEL_BIT.items() if not mask & bit)
    for mask in range(1 << len(_CHANNEL_BIT))
)


def open_channels(suppressed: frozenset[Channel]) -> frozenset[Channel]:
    """The channels still open, as one of the shared canonical sets."""
    mask = 0
    for channel in suppressed:
        mask |= _CHANNEL_BIT[channel]
    return _OPEN_BY_MASK[mask]


def preference_of(kind: TouchKind) -> bool:
    """Whether a touch of this kind can move to another channel (nurture steps can't)."""
    return kind in _PREFERENCE


_PICKED: dict[tuple[TouchKind, frozenset[Channel]], Channel | None] = {}


def pick_channel(kind: TouchKind, available: frozenset[Channel]) -> Channel | None:
    """The kind's preferred channel among those still open (memoised: few combinations)."""
    key = (kind, available)
    try:
        return _PICKED[key]
    except KeyError:
        picked = next((c for c in _PREFERENCE[kind] if c in available), None)
        _PICKED[key] = picked
        return picked


def contact_days(records: Iterable[TouchRecord]) -> list[date]:
    """Due dates of the records that reached a person (identity checks: enum hashing is slow)."""
    opt_out, urgent, enrol = TouchKind.OPT_OUT, TouchKind.URGENT, TouchKind.ENROL
    review = TouchKind.REVIEW
    return [
        r.due
        for r in records
        if r.kind is not opt_out
        and r.kind is not urgent
        and r.kind is not enrol
        and r.kind is not review
    ]


def contact_days_by_person(records: Iterable[TouchRecord]) -> dict[str, list[date]]:
    """`contact_days` per prospect key, in one pass (colleagues are looked up one by one)."""
    opt_out, urgent, enrol = TouchKind.OPT_OUT, TouchKind.URGENT, TouchKind.ENROL
    review = TouchKind.REVIEW
    days: dict[str, list[date]] = {}
    for r in records:
        if (
            r.kind is not opt_out
            and r.kind is not urgent
            and r.kind is not enrol
            and r.kind is not review
        ):
            found = days.get(r.prospect_key)
            if found is None:
                days[r.prospect_key] = [r.due]
            else:
                found.append(r.due)
    return days


@dataclass(slots=True)
class KnownTouches:
    """History's touches that still stand once this decision's plan replaces the old one."""

    person: tuple[TouchRecord, ...]
    account: tuple[TouchRecord, ...]


def known_touches(history: History, replaced_after: date | None, replay: bool) -> KnownTouches:
    """Drop the old plan's touches the new plan replaces: those not yet materialised (due after
    `replaced_after`), or all of them when the same event is decided again (a replay).

    `History.account_touches` covers everyone at the account, this person included.
    """
    plan = history.plan
    if plan is None or not (history.touches or history.account_touches):
        return KnownTouches(history.touches, history.account_touches)
    gone: Counter[tuple[TouchKind, TaskChannel, date, str]] = Counter()
    for t in plan.touches:
        if replay or (replaced_after is not None and t.due > replaced_after):
            who = t.target.key if t.target else plan.prospect.key
            gone[(t.kind, t.channel, t.due, who)] += 1
    if not gone:
        return KnownTouches(history.touches, history.account_touches)

    def keep(records: tuple[TouchRecord, ...]) -> tuple[TouchRecord, ...]:
        left = Counter(gone)
        kept: list[TouchRecord] = []
        for r in records:
            key = (r.kind, r.channel, r.due, r.prospect_key)
            if left[key] > 0:
                left[key] -= 1
            else:
                kept.append(r)
        return tuple(kept)

    return KnownTouches(keep(history.touches), keep(history.account_touches))
