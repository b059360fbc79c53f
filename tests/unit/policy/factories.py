"""Builders for policy inputs and a small model of how the engine applies decisions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from syncd.model import (
    Account,
    AccountRef,
    Channel,
    Decision,
    History,
    Intent,
    Owner,
    Plan,
    Prospect,
    ProspectRef,
    RejectionEvent,
    ReplyInfo,
    ReviewHold,
    SourceKind,
    Touch,
    TouchKind,
    TouchRecord,
    WriteKind,
)
from syncd.policy import PolicyConfig, recheck

NOW = datetime(2024, 3, 12, 15, 30, tzinfo=UTC)  # a Tuesday afternoon in Berlin
TODAY = NOW.date()


def account(n: int = 1, **fields: Any) -> Account:
    values: dict[str, Any] = {
        "name": f"Account {n}",
        "employees": 200,
        "annual_revenue": 2e7,
        "industry": "Manufacturing",
        "country": "DE",
    }
    values.update(fields)
    return Account(ref=AccountRef("crm", f"A{n:04d}"), **values)


def person(
    n: int = 1,
    *,
    acct: Account | None = None,
    tz: str = "Europe/Berlin",
    **fields: Any,
) -> Prospect:
    values: dict[str, Any] = {
        "email": f"person{n}@example.com",
        "name": f"Pat Person{n}",
        "title": "Head of Operations",
        "department": "Operations",
    }
    values.update(fields)
    return Prospect(
        ref=ProspectRef("crm", "contact", f"C{n:04d}"),
        account=acct if acct is not None else account(),
        owner=Owner("U1", tz),
        **values,
    )


def lost_deal(
    n: int = 1,
    *,
    who: Prospect | None = None,
    at: datetime = NOW - timedelta(hours=2),
    **fields: Any,
) -> RejectionEvent:
    values: dict[str, Any] = {"reason_raw": "Not interested", "stage": "Proposal"}
    values.update(fields)
    return RejectionEvent(
        event_id=f"crm:opp:{n}",
        source=SourceKind.OPPORTUNITY,
        occurred_at=at,
        prospect=who or person(),
        opportunity_id=f"OPP{n}",
        **values,
    )


def reply(
    intent: Intent,
    n: int = 1,
    *,
    who: Prospect | None = None,
    at: datetime = NOW - timedelta(hours=2),
    quote: str | None = None,
    **info: Any,
) -> RejectionEvent:
    return RejectionEvent(
        event_id=f"gm:msg:{n}",
        source=SourceKind.REPLY,
        occurred_at=at,
        prospect=who or person(),
        quote=quote,
        reply=ReplyInfo(
            intent=intent,
            message_id=f"<m{n}@example.com>",
            thread_id=f"T{n}",
            subject="Re: a quick question",
            **info,
        ),
    )


# A CRM flag, an owner alert, a campaign membership: not contact with a person.
NOT_A_TOUCH = (TouchKind.OPT_OUT, TouchKind.URGENT, TouchKind.ENROL, TouchKind.REVIEW)


def of_kind(decision: Decision, kind: TouchKind) -> list[Touch]:
    return [t for t in decision.plan.touches if t.kind is kind] if decision.plan else []


def contact_touches(plan: Plan | None) -> list[Touch]:
    """Touches that reach a person (opt-out writes and owner alerts don't)."""
    if plan is None:
        return []
    return [t for t in plan.touches if t.kind not in NOT_A_TOUCH]


def record(touch: Touch, prospect_key: str, account_key: str | None) -> TouchRecord:
    who = touch.target.key if touch.target else prospect_key
    return TouchRecord(touch.kind, touch.channel, touch.due, who, account_key)


@dataclass
class Person:
    prospect: Prospect
    rejections: list[RejectionEvent] = field(default_factory=list)
    made: list[TouchRecord] = field(default_factory=list)  # materialised: permanent
    plan: Plan | None = None  # the live plan: its touches not cancelled
    materialised: set[int] = field(default_factory=set)  # seqs of the live plan's made touches
    suppressed: frozenset[Channel] = frozenset()
    active: bool = False
    review: ReviewHold | None = None  # an open review hold
    made_while_held: list[Touch] = field(default_factory=list)


class Engine:
    """How the engine and its store apply decisions, reduced to what the invariants need.

    Touches due within the horizon are materialised each cycle and stay. Storing a plan
    cancels every touch of the prospect not materialised yet and inserts the new plan's
    touches, skipping any (plan id, seq) the store has seen before, as the store does.
    """

    def __init__(self, horizon_days: int = 7) -> None:
        self.horizon = horizon_days
        self.people: dict[str, Person] = {}
        self.taken: set[tuple[str, int]] = set()

    def add(self, prospect: Prospect) -> Person:
        return self.people.setdefault(prospect.ref.key, Person(prospect))

    @staticmethod
    def account_key(who: Person) -> str | None:
        return who.prospect.account.ref.key if who.prospect.account else None

    def planned(self, who: Person) -> list[Touch]:
        if who.plan is None:
            return []
        return [t for t in who.plan.touches if t.seq not in who.materialised]

    def live(self) -> list[TouchRecord]:
        """Every touch made or still planned, anywhere."""
        out: list[TouchRecord] = []
        for who in self.people.values():
            key, account = who.prospect.ref.key, self.account_key(who)
            out += who.made
            out += [record(t, key, account) for t in self.planned(who)]
        return out

    def history(self, who: Person) -> History:
        live = self.live()
        account = self.account_key(who)
        return History(
            prospect=who.prospect,
            rejections=tuple(who.rejections),
            touches=tuple(r for r in live if r.prospect_key == who.prospect.ref.key),
            account_touches=tuple(r for r in live if account and r.account_key == account),
            plan=who.plan,
            suppressed=who.suppressed,
            active=who.active,
            review=who.review,
            colleagues=tuple(
                p.prospect
                for p in self.people.values()
                if p is not who and account and self.account_key(p) == account
            ),
        )

    def materialise(
        self, today: date, cfg: PolicyConfig | None = None, now: datetime | None = None
    ) -> None:
        """Due touches are made; with `cfg`, only those the policy's `recheck` lets through
        (the others are cancelled, as the engine does)."""
        horizon = today + timedelta(days=self.horizon)
        for who in self.people.values():
            key, account = who.prospect.ref.key, self.account_key(who)
            for touch in self.planned(who):
                if touch.due > horizon:
                    continue
                if cfg is not None and recheck(touch, self.history(who), cfg, now or NOW):
                    assert who.plan is not None
                    kept = tuple(t for t in who.plan.touches if t.seq != touch.seq)
                    who.plan = replace(who.plan, touches=kept)
                    continue
                who.materialised.add(touch.seq)
                if who.review is not None:
                    who.made_while_held.append(touch)
                if touch.write is not WriteKind.OPT_OUT:
                    who.made.append(record(touch, key, account))

    def apply(self, event: RejectionEvent | None, who: Person, decision: Decision) -> None:
        if event is not None and event.event_id not in {r.event_id for r in who.rejections}:
            who.rejections.append(event)
        who.suppressed |= decision.suppress
        if decision.hold is not None:
            who.review = decision.hold
        elif decision.resolved is not None:
            who.review = None
        old = who.plan
        if old is not None and decision.suppress:
            kept = tuple(
                t
                for t in old.touches
                if t.seq in who.materialised or t.suppress_channel not in decision.suppress
            )
            who.plan = old = replace(old, touches=kept)
        if decision.plan is None and not decision.cancel_plan:
            return
        made_before = (
            [t for t in old.touches if t.seq in who.materialised]
            if old is not None
            and decision.plan is not None
            and old.plan_id == decision.plan.plan_id
            else []
        )
        if decision.plan is None:
            who.plan, who.materialised = None, set()
            return
        plan = decision.plan
        fresh = [t for t in plan.touches if (plan.plan_id, t.seq) not in self.taken]
        self.taken |= {(plan.plan_id, t.seq) for t in fresh}
        who.materialised = {t.seq for t in made_before}
        who.plan = replace(plan, touches=tuple(sorted((*made_before, *fresh), key=lambda t: t.seq)))
