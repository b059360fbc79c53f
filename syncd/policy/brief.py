"""The rep's brief: never again the unprepared caller.

Every task carries who said no and when, their words, the reason, competitor, stage and
amount, what happened since, who else is at the account, what is new to bring, and why this
touch is due now. The shared part is built once per decision and each touch prepends its own
"why now", which keeps thousands of decisions a second affordable. Briefs go to the CRM (the
prospect's name belongs there), never to logs; they are cut to the sinks' field limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from syncd.model import (
    Account,
    Prospect,
    ReasonKind,
    RejectionEvent,
    SourceKind,
    TouchKind,
    TouchRecord,
)
from syncd.policy.angles import Angles
from syncd.policy.config import BriefConfig

ELLIPSIS = "…"

_SOURCE_WORDS = {
    SourceKind.OPPORTUNITY: "closed-lost opportunity",
    SourceKind.LEAD: "lead status",
    SourceKind.REPLY: "e-mail reply",
}

SUBJECTS: dict[TouchKind, str] = {
    TouchKind.THANK_YOU: "Thank {who} and offer to stay in touch",
    TouchKind.INSIGHT_EMAIL: "Share a market insight with {who}",
    TouchKind.LINKEDIN: "Engage with {who} on LinkedIn",
    TouchKind.CASE_STUDY: "Send {who} a case study from a similar company",
    TouchKind.PRODUCT_UPDATE: "Send {who} a product update",
    TouchKind.HANDWRITTEN_NOTE: "Send {who} a handwritten note",
    TouchKind.CALL: "Check in with {who} by phone",
    TouchKind.CHECK_IN: "Check in with {who}: how is it going with {competitor}?",
    TouchKind.CALLBACK: "Call back {who}: the time may be right now",
    TouchKind.RELEASE: "We improved: {release} (for {who})",
    TouchKind.ENTRY_POINT: "Another way into {account}: {target}",
    TouchKind.GATEKEEPER: "Build rapport with the gatekeeper for {who}",
    TouchKind.REFERRAL: "Contact {target}, referred by {who}",
    TouchKind.URGENT: "{who} re-engaged: follow up now",
    TouchKind.OPT_OUT: "Opt-out recorded for {who}",
    TouchKind.ENROL: "Add {who} to the nurture list",
    TouchKind.REVIEW: "Read this reply from {who} and decide",
}


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, marked with an ellipsis when shortened."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def trim_quote(quote: str, limit: int) -> str:
    return cut(" ".join(quote.split()), limit)


def display_name(prospect: Prospect) -> str:
    return prospect.name or f"{prospect.ref.kind} {prospect.ref.id}"


def subject(kind: TouchKind, cfg: BriefConfig, **values: str) -> str:
    return cut(SUBJECTS[kind].format(**values), cfg.subject_max_chars)


def release_subject(title: str, who: str, cfg: BriefConfig) -> str:
    """The RELEASE touch's subject; it also identifies which release a plan already offers."""
    return subject(TouchKind.RELEASE, cfg, release=title, who=who)


def release_callback_subject(title: str, who: str, cfg: BriefConfig) -> str:
    """The call-back that waits for a release; names it so `review` won't offer it twice."""
    return cut(f"Call back {who}: we improved, “{title}” answers their gap", cfg.subject_max_chars)


def draft_body(prospect: Prospect, account: Account | None, cfg: BriefConfig) -> str:
    """The thank-you e-mail the rep reviews and sends from the prospect's own thread."""
    first = prospect.name.split()[0] if prospect.name and prospect.name.split() else ""
    return cut(
        cfg.draft_template.format(
            first_name=first,
            first_name_sp=f" {first}" if first else "",
            account=(account.name if account and account.name else ""),
        ),
        cfg.max_chars,
    )


def _amount(event: RejectionEvent) -> str | None:
    if event.amount is None:
        return None
    return f"{event.amount:,.0f} {event.currency or ''}".rstrip()


def _person(p: Prospect) -> str:
    title, department = p.title, p.department
    role = f"{title}, {department}" if title and department else title or department
    name = p.name or f"{p.ref.kind} {p.ref.id}"
    text = f"{name} ({role})" if role else name
    if p.opted_out:
        text += f" [opted out: {', '.join(sorted(p.opted_out))}]"
    return text


def _latest_first(touch: TouchRecord) -> tuple[date, str]:
    return touch.due, touch.kind  # a StrEnum member orders and formats as its value


@dataclass(slots=True)
class BriefFacts:
    """What the shared part of a brief is made of."""

    event: RejectionEvent
    prospect: Prospect
    account: Account | None
    rejected_on: date
    reason: ReasonKind
    competitor: str | None
    earlier: tuple[RejectionEvent, ...]
    earlier_reason: ReasonKind | None
    touches: tuple[TouchRecord, ...]
    today: date
    colleagues: tuple[Prospect, ...]
    suggested: tuple[Prospect, ...]
    angles: Angles


def shared_brief(facts: BriefFacts, cfg: BriefConfig) -> str:
    """The part of every brief that doesn't depend on the touch."""
    event, prospect, account = facts.event, facts.prospect, facts.account
    lines = ["WHO SAID NO", f"{_person(prospect)} [{prospect.ref.key}]"]
    if account is not None:
        facts_about = ", ".join(
            x
            for x in (
                f"{account.employees} employees" if account.employees else None,
                account.industry,
                account.country,
            )
            if x
        )
        label = account.name or account.ref.id
        lines.append(
            f"Account: {label} [{account.ref.key}]" + (f" ({facts_about})" if facts_about else "")
        )
    when = f"When: {facts.rejected_on.isoformat()}, {_SOURCE_WORDS[event.source]}"
    if event.opportunity_id:
        when += f" {event.opportunity_id}"
    lines.append(when)
    deal = [f"stage reached: {event.stage}" if event.stage else None]
    amount = _amount(event)
    deal.append(f"amount: {amount}" if amount else None)
    if any(deal):
        lines.append("Deal: " + ", ".join(x for x in deal if x))
    reason = f"Reason: {facts.reason}"
    if event.reason_raw:
        reason += f" (CRM value: {event.reason_raw})"
    if facts.competitor:
        reason += f"; competitor: {facts.competitor}"
    lines.append(reason)
    if event.quote and cfg.quote_max_chars:
        lines.append(f"Their words: “{trim_quote(event.quote, cfg.quote_max_chars)}”")
    lines += ["", "HISTORY"]
    if facts.earlier:
        last = facts.earlier[-1]
        why = f": {facts.earlier_reason.value}" if facts.earlier_reason else ""
        lines.append(
            f"Earlier rejections: {len(facts.earlier)} "
            f"(last {last.occurred_at.date().isoformat()}{why})"
        )
    else:
        lines.append("Earlier rejections: none — this is their first no.")
    made = [t for t in facts.touches if t.due <= facts.today]
    if made:
        last_touch = max(made, key=_latest_first)
        lines.append(
            f"Touches so far: {len(made)} (last {last_touch.due.isoformat()}, "
            f"{last_touch.kind} by {last_touch.channel})"
        )
    else:
        lines.append("Touches so far: none.")
    if facts.colleagues and cfg.max_colleagues:
        shown = facts.colleagues[: cfg.max_colleagues]
        more = len(facts.colleagues) - len(shown)
        text = "; ".join(_person(c) for c in shown) + (f"; and {more} more" if more > 0 else "")
        lines += ["", "OTHER CONTACTS AT THE ACCOUNT", text]
    if facts.suggested:
        lines.append("Suggested entry points: " + "; ".join(_person(c) for c in facts.suggested))
    lines += ["", "ANGLE", *(f"- {line}" for line in facts.angles.describe())]
    return "\n".join(lines)


def compose(why: str, rule_id: str, shared: str, cfg: BriefConfig) -> str:
    """One touch's brief: why it is due now first, then the shared facts, within the limit."""
    return cut(f"WHY THIS TOUCH NOW\n{why} (rule {rule_id})\n\n{shared}", cfg.max_chars)
