"""Policy throughput: decisions per second on one core, on realistic generated events.

    python -m benchmarks.policy [--n N] [--seed S] [--json]

The events mix the three sources (closed-lost deals, rejected leads, inbox replies) with the
reasons, amounts, countries, owner time zones, histories (earlier rejections, touches made
and planned, colleagues) and a config (ICP, releases, product lines) a real tenant has. The
events are built before the clock starts; only `decide` is timed. The policy only has to
keep ahead of the connectors (a few thousand records/s at best); the decisions digest must
not change when the policy is refactored for speed or clarity.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from syncd.model import (
    Account,
    AccountRef,
    Channel,
    History,
    Intent,
    Owner,
    Prospect,
    ProspectRef,
    RejectionEvent,
    ReplyInfo,
    SourceKind,
    TaskChannel,
    TouchKind,
    TouchRecord,
)
from syncd.policy import PolicyConfig, decide
from syncd.store.codec import encode

NOW = datetime(2024, 3, 12, 15, 30, tzinfo=UTC)
COUNTRIES = ["DE", "US", "FR", "GB", "ES", "NL", "Germany", "JP", "CA", "AT"]
ZONES = ["Europe/Berlin", "America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Tokyo"]
INDUSTRIES = ["Manufacturing", "Software", "Retail", "Logistics", "Healthcare"]
RAW_REASONS = [
    "Lost to Competitor",
    "Price",
    "No Decision / Non-Responsive",
    "Timing",
    "Missing feature: SSO",
    "BAD_TIMING",
    "UNQUALIFIED",
    "Not interested",
    None,
]
DEPARTMENTS = ["Finance", "IT", "Operations", "Sales", "HR", "Marketing"]
TITLES = ["CFO", "CTO", "Head of Operations", "CEO", "Office Manager", "Buyer", "Founder"]
QUOTES = [
    "Thanks, but we just signed a 2-year contract with Globex.",
    "Not right now, maybe after our audit in March.",
    "We don't have budget for this until next year.",
    "No thanks. We're not interested and won't be.",
    "Your tool lacks SSO, which is a must for us.",
]


def config() -> PolicyConfig:
    return PolicyConfig(
        icp={"min_employees": 10, "max_employees": 20_000, "excluded_industries": ["Gambling"]},
        product_lines=[{"name": "Analytics", "pitch": "dashboards"}, {"name": "Payroll"}],
        releases=[
            {"date": date(2024, 5, 6), "title": "SSO for all plans", "tags": ["sso"]},
            {"date": date(2024, 9, 2), "title": "Usage pricing", "reasons": ["budget"]},
        ],
    )


def _prospect(rng: random.Random, n: int, account: Account, owner: Owner) -> Prospect:
    return Prospect(
        ref=ProspectRef("crm", "contact", f"003{n:08d}"),
        account=account,
        owner=owner,
        email=f"person{n}@example.com",
        name=f"Person {n}",
        title=rng.choice(TITLES),
        department=rng.choice(DEPARTMENTS),
        opted_out=frozenset({Channel.PHONE}) if rng.random() < 0.05 else frozenset(),
    )


def generate(n: int, seed: int) -> list[tuple[RejectionEvent, History]]:
    """`n` (event, history) pairs shaped like a CRM's closed-lost / unqualified / reply mix."""
    rng = random.Random(seed)
    cases: list[tuple[RejectionEvent, History]] = []
    for i in range(n):
        account = Account(
            ref=AccountRef("crm", f"001{i:08d}"),
            name=f"Account {i}",
            employees=rng.choice([None, 8, 30, 120, 800, 5000]),
            annual_revenue=rng.choice([None, 1e6, 5e7]),
            industry=rng.choice(INDUSTRIES),
            country=rng.choice(COUNTRIES),
            products_offered=frozenset({"Analytics"}) if rng.random() < 0.5 else frozenset(),
        )
        owner = Owner(f"005{i % 50:05d}", rng.choice(ZONES))
        prospect = _prospect(rng, i, account, owner)
        colleagues = tuple(
            _prospect(rng, n + i * 10 + j, account, owner) for j in range(rng.randint(0, 6))
        )
        occurred = NOW - timedelta(hours=rng.randint(1, 240))
        source = rng.choices(list(SourceKind), weights=[4, 3, 3])[0]
        reply = None
        if source is SourceKind.REPLY:
            intent = rng.choices(
                list(Intent), weights=[1, 4, 4, 2, 1, 1, 1, 1]
            )[0]  # fmt: skip
            reply = ReplyInfo(
                intent=intent,
                message_id=f"<m{i}@example.com>",
                thread_id=f"t{i}",
                subject="Re: quick question",
                opt_out_channels=frozenset({Channel.EMAIL})
                if intent is Intent.OPT_OUT
                else frozenset(),
                return_date=(NOW + timedelta(days=10)).date()
                if intent is Intent.OUT_OF_OFFICE
                else None,
                referral_email=f"person{n + i * 10}@example.com"
                if intent is Intent.REFERRAL
                else None,
                competitor="Globex" if intent is Intent.COMPETITOR else None,
                auto_reply=intent is Intent.OUT_OF_OFFICE,
                hostile=rng.random() < 0.1,
            )
        earlier = tuple(
            RejectionEvent(
                f"old-{i}-{k}",
                SourceKind.OPPORTUNITY,
                occurred - timedelta(days=200 * (k + 1)),
                prospect,
                reason_raw=rng.choice(RAW_REASONS),
                amount=rng.choice([None, 12_000.0]),
            )
            for k in range(rng.choice([0, 0, 0, 1, 2]))
        )
        touches = tuple(
            TouchRecord(
                rng.choice([TouchKind.INSIGHT_EMAIL, TouchKind.CALL, TouchKind.LINKEDIN]),
                TaskChannel.EMAIL,
                occurred.date() - timedelta(days=25 * k + rng.randint(0, 5)),
                prospect.ref.key,
                account.ref.key,
            )
            for k in range(rng.randint(0, 6))
        )
        event = RejectionEvent(
            event_id=f"ev-{i}",
            source=source,
            occurred_at=occurred,
            prospect=prospect,
            reason_raw=rng.choice(RAW_REASONS) if source is not SourceKind.REPLY else None,
            competitor="Globex" if rng.random() < 0.2 else None,
            amount=rng.choice([None, 3_000.0, 18_000.0, 60_000.0, 250_000.0]),
            currency="EUR",
            stage=rng.choice([None, "Proposal", "Negotiation"]),
            opportunity_id=f"006{i:08d}" if source is SourceKind.OPPORTUNITY else None,
            quote=rng.choice(QUOTES) if rng.random() < 0.6 else None,
            reply=reply,
        )
        history = History(
            prospect=prospect,
            rejections=earlier,
            touches=touches,
            account_touches=touches,
            colleagues=colleagues,
            active=rng.random() < 0.03,
        )
        cases.append((event, history))
    return cases


def run(n: int, seed: int, rounds: int = 3) -> dict[str, float | int | dict[str, int]]:
    cfg = config()
    cases = generate(n, seed)
    outcomes: dict[str, int] = {}
    touches = 0
    for event, history in cases[: min(n, 2000)]:  # warm the holiday and zone caches
        decide(event, history, cfg, NOW)
    rates: list[float] = []
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        for event, history in cases:
            decide(event, history, cfg, NOW)
        rates.append(n / (time.process_time() - start))
    digest = hashlib.sha256()
    for event, history in cases:
        decision = decide(event, history, cfg, NOW)
        outcomes[decision.outcome.value] = outcomes.get(decision.outcome.value, 0) + 1
        touches += len(decision.plan.touches) if decision.plan else 0
        digest.update(json.dumps(encode(decision), sort_keys=True).encode())
    return {
        "decisions": n,
        "rounds": rounds,
        "decisions_per_s": round(statistics.median(rates)),
        "best_decisions_per_s": round(max(rates)),
        "touches_per_decision": round(touches / n, 2),
        "outcomes": dict(sorted(outcomes.items())),
        # Unchanged by any refactor that keeps the decisions the same.
        "decisions_sha256": digest.hexdigest()[:16],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="events per round")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.n, args.seed, args.rounds)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"policy.decide: {result['decisions_per_s']:,} decisions/s "
            "on one core "
            f"(median of {result['rounds']} rounds of {result['decisions']:,}; "
            f"best {result['best_decisions_per_s']:,}/s; "
            f"{result['touches_per_decision']} touches per decision)"
        )
        print(f"outcomes: {result['outcomes']}; decisions sha256 {result['decisions_sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
