"""A deterministic, realistic demo world shared by every sandboxed fake.

The Salesforce and HubSpot fakes each seed their half of the companies, and the Gmail fake
seeds replies whose senders are people in the CRM the mailbox is wired to, so the sandbox
hangs together: a reply can be matched to a CRM prospect, a closed-lost deal has contacts
who may have opted out, and so on. Same seed, same world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

INDUSTRIES = (
    "Software",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Logistics",
    "Finance",
    "Education",
    "Hospitality",
)
COUNTRIES = ("US", "US", "US", "GB", "DE", "FR", "ES", "CA", "NL", "AU")
DEPARTMENTS = ("Operations", "Finance", "IT", "Sales", "Marketing", "Procurement")
TITLES = {
    "Operations": ("VP Operations", "Operations Manager", "Head of Operations"),
    "Finance": ("CFO", "Finance Director", "Controller"),
    "IT": ("CIO", "IT Manager", "Head of IT"),
    "Sales": ("VP Sales", "Sales Director", "Account Executive"),
    "Marketing": ("CMO", "Marketing Manager", "Head of Marketing"),
    "Procurement": ("Procurement Lead", "Buyer", "Purchasing Manager"),
}
FIRST = (
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Robin",
    "Jamie",
    "Chris",
    "Pat",
    "Lena",
    "Jonas",
    "Marie",
    "Lucas",
    "Sofia",
    "Mateo",
    "Emma",
    "Noah",
    "Clara",
    "Hugo",
)
LAST = (
    "Smith",
    "Müller",
    "Dubois",
    "García",
    "Johnson",
    "Schmidt",
    "Martin",
    "López",
    "Brown",
    "Wagner",
    "Bernard",
    "Fernández",
    "Taylor",
    "Becker",
    "Moreau",
    "Ruiz",
    "Clark",
    "Koch",
)
WORDS = (
    "Harbor",
    "Summit",
    "Blue",
    "North",
    "Iron",
    "Maple",
    "Bright",
    "Cedar",
    "Vertex",
    "Atlas",
    "Pioneer",
    "Silver",
    "Lumen",
    "Orbit",
    "Granite",
    "Nimbus",
)
SUFFIX = ("Logistics", "Foods", "Systems", "Health", "Retail", "Works", "Labs", "Group")
LOSS_REASONS = (
    "Timing",
    "Budget",
    "Competitor",
    "Missing feature",
    "No decision",
    "Price",
    "Not interested",
    "Went dark",
)
COMPETITORS = ("Acme Analytics", "Globex", "Initech", "Umbrella Cloud")
LEAD_STATUSES = ("Unqualified", "Not Interested", "Bad Timing", "Nurture")
STAGES = ("Qualification", "Discovery", "Proposal", "Negotiation")
CRMS = ("salesforce", "hubspot")


@dataclass(frozen=True)
class DemoCompany:
    id: str
    crm: str  # which CRM holds it: "salesforce" | "hubspot"
    name: str
    domain: str
    employees: int
    annual_revenue: float
    industry: str
    country: str


@dataclass(frozen=True)
class DemoPerson:
    id: str
    company_id: str
    first_name: str
    last_name: str
    email: str
    title: str
    department: str
    opted_out_email: bool
    do_not_call: bool


@dataclass(frozen=True)
class DemoDeal:
    id: str
    company_id: str
    contact_ids: tuple[str, ...]  # the first is the primary contact
    name: str
    amount: float
    stage_reached: str
    loss_reason: str
    competitor: str | None
    closed_at: datetime
    pipeline: str  # "default" | "enterprise"


@dataclass(frozen=True)
class DemoLead:
    person: DemoPerson  # company_id names the company the lead claims
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class DemoReply:
    person_id: str
    subject: str
    body: str
    headers: tuple[tuple[str, str], ...]
    sent_at: datetime
    expected_intent: str
    language: str


@dataclass(frozen=True)
class DemoWorld:
    companies: tuple[DemoCompany, ...]
    people: tuple[DemoPerson, ...]
    deals: tuple[DemoDeal, ...]
    leads: tuple[DemoLead, ...]
    replies: tuple[DemoReply, ...]

    def for_crm(self, crm: str) -> DemoWorld:
        """The part of the world one CRM holds (replies: senders in that CRM)."""
        ids = {c.id for c in self.companies if c.crm == crm}
        people = tuple(p for p in self.people if p.company_id in ids)
        pids = {p.id for p in people}
        return DemoWorld(
            companies=tuple(c for c in self.companies if c.id in ids),
            people=people,
            deals=tuple(d for d in self.deals if d.company_id in ids),
            leads=tuple(lead for lead in self.leads if lead.person.company_id in ids),
            replies=tuple(r for r in self.replies if r.person_id in pids),
        )

    def person(self, person_id: str) -> DemoPerson:
        return next(p for p in self.people if p.id == person_id)


_REPLY_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    ("not_interested", "en", "Thanks, but we're not interested."),
    ("not_now", "en", "Not right now. Please reach out again next quarter."),
    ("competitor", "en", "We decided to go with Globex this year."),
    ("opt_out", "en", "Please remove me from your mailing list."),
    ("interested", "en", "Actually, yes, let's set up a call next week."),
    ("referral", "en", "I'm not the right person; please contact dana.ops@{domain}."),
    ("not_interested", "de", "Vielen Dank, aber wir haben kein Interesse."),
    ("not_now", "de", "Im Moment nicht, melden Sie sich bitte im nächsten Quartal wieder."),
    ("opt_out", "fr", "Merci de ne plus m'envoyer d'e-mails."),
    ("not_now", "fr", "Pas pour le moment, recontactez-moi dans six mois."),
    ("competitor", "es", "Ya trabajamos con Initech, gracias."),
    ("not_interested", "es", "No nos interesa, gracias."),
)
_OOO = ("out_of_office", "en", "I am out of the office until {ret}. I will reply when I return.")


def demo_world(seed: int = 7, companies: int = 300, now: datetime | None = None) -> DemoWorld:
    """Build the world; `now` anchors dates (default: the current time)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    comps: list[DemoCompany] = []
    people: list[DemoPerson] = []
    deals: list[DemoDeal] = []
    leads: list[DemoLead] = []
    replies: list[DemoReply] = []
    for i in range(companies):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIX)}"
        domain = f"{name.split()[0].lower()}{i:03d}.example.com"
        size = rng.choice((8, 25, 40, 120, 300, 650, 1500, 5000, 12000))
        employees = max(3, int(size * rng.uniform(0.7, 1.3)))
        comp = DemoCompany(
            id=f"c{i:04d}",
            crm=CRMS[i % 2],
            name=name,
            domain=domain,
            employees=employees,
            annual_revenue=round(employees * rng.uniform(80_000, 250_000), -3),
            industry=rng.choice(INDUSTRIES),
            country=rng.choice(COUNTRIES),
        )
        comps.append(comp)
        staff: list[DemoPerson] = []
        for j in range(rng.randint(2, 5)):
            dept = DEPARTMENTS[(i + j) % len(DEPARTMENTS)]
            first, last = rng.choice(FIRST), rng.choice(LAST)
            title = "CEO" if j == 0 and employees < 50 else rng.choice(TITLES[dept])
            staff.append(
                DemoPerson(
                    id=f"p{i:04d}{j}",
                    company_id=comp.id,
                    first_name=first,
                    last_name=last,
                    email=f"{first.lower()}.{j}{i}@{domain}",
                    title=title,
                    department=dept,
                    opted_out_email=rng.random() < 0.06,
                    do_not_call=rng.random() < 0.04,
                )
            )
        people.extend(staff)
        if rng.random() < 0.6:
            reason = rng.choice(LOSS_REASONS)
            closed = now - timedelta(days=rng.randint(1, 120), minutes=rng.randint(0, 1440))
            deals.append(
                DemoDeal(
                    id=f"d{i:04d}",
                    company_id=comp.id,
                    contact_ids=tuple(p.id for p in staff[1:3] or staff[:1]),
                    name=f"{name} platform",
                    amount=float(rng.choice((3_000, 12_000, 40_000, 90_000, 150_000))),
                    stage_reached=rng.choice(STAGES),
                    loss_reason=reason,
                    competitor=rng.choice(COMPETITORS) if reason == "Competitor" else None,
                    closed_at=closed,
                    pipeline="enterprise" if employees >= 500 else "default",
                )
            )
        if rng.random() < 0.25:
            leads.append(
                DemoLead(
                    person=staff[-1],
                    status=rng.choice(LEAD_STATUSES),
                    updated_at=now - timedelta(days=rng.randint(1, 60)),
                )
            )
    for k, person in enumerate(rng.sample(people, min(40, len(people)))):
        comp = next(c for c in comps if c.id == person.company_id)
        sent = now - timedelta(days=rng.randint(0, 5), hours=rng.randint(1, 20))
        if k % 9 == 8:
            ret = (sent + timedelta(days=10)).date()
            intent, lang, text = _OOO
            body = text.format(ret=_long_date(ret))
            headers: tuple[tuple[str, str], ...] = (("Auto-Submitted", "auto-replied"),)
            subject = "Automatic reply: Following up"
        else:
            intent, lang, text = _REPLY_TEMPLATES[k % len(_REPLY_TEMPLATES)]
            body = text.format(domain=comp.domain)
            headers = ()
            subject = "Re: Following up"
        quoted = (
            f"\n\nOn {sent:%a, %b %d, %Y} at 9:00 AM Sam Ortiz <sam@harborlight.example> "
            "wrote:\n> Would you be interested in a short call?\n"
        )
        replies.append(DemoReply(person.id, subject, body + quoted, headers, sent, intent, lang))
    return DemoWorld(tuple(comps), tuple(people), tuple(deals), tuple(leads), tuple(replies))


def _long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"
