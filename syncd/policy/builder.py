"""The plan under construction: numbering, subjects, briefs, and the request it answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from syncd.model import (
    Channel,
    Priority,
    Prospect,
    ProspectRef,
    RuleHit,
    TaskChannel,
    Touch,
    TouchKind,
    WriteKind,
)
from syncd.policy import brief as briefs
from syncd.policy.angles import Angles
from syncd.policy.calendar import Calendar
from syncd.policy.config import PolicyConfig
from syncd.policy.entry_points import Suggestion
from syncd.policy.prepared import PreparedRelease
from syncd.policy.timing import Timing
from syncd.policy.touches import TASK_CHANNEL, KnownTouches


def opt_out_touch(
    seq: int, due: date, channels: frozenset[Channel], who: str, cfg: PolicyConfig
) -> Touch:
    """Write the opt-out flags back to the CRM: the first touch of its plan."""
    listed = ", ".join(sorted(channels))
    why = f"They asked not to be contacted by {listed}: the CRM opt-out flags are set."
    return Touch(
        seq=seq,
        kind=TouchKind.OPT_OUT,
        due=due,
        write=WriteKind.OPT_OUT,
        channel=TaskChannel.TODO,
        subject=briefs.subject(TouchKind.OPT_OUT, cfg.brief, who=who),
        brief=briefs.cut(f"{why} (rule suppress.opt_out)", cfg.brief.max_chars),
        rule_id="suppress.opt_out",
        opt_out_channels=channels,
    )


@dataclass(slots=True)
class PlanRequest:
    """Everything `build_plan` needs, decided by the caller."""

    cfg: PolicyConfig
    calendar: Calendar
    today: date
    prospect: Prospect
    ref: ProspectRef
    generation: int
    timing: Timing
    suppressed: frozenset[Channel]
    known: KnownTouches
    shared_brief: str
    angles: Angles
    rejected_on: date
    amount: float | None
    competitor: str | None
    acknowledge: bool
    draft_ack: bool  # the no came by e-mail: acknowledge with a draft in the thread
    draft_text: str
    opt_out_write: frozenset[Channel]
    gatekeeper: bool
    referral: tuple[str, Prospect | None] | None  # (address, known colleague)
    entry_points: Suggestion | None
    releases: tuple[PreparedRelease, ...]  # releases answering the no, for release touches
    offered_releases: frozenset[str]  # subjects of release touches already made
    releases_after: date  # only releases shipping after this date are news to them
    enrol: bool = False  # add them to the nurture list (a new no only, not a new cycle)
    seq_base: int = 0


class PlanBuilder:
    """Accumulates touches and the rules that made them."""

    def __init__(self, req: PlanRequest) -> None:
        self.req = req
        self.touches: list[Touch] = []
        self.hits: list[RuleHit] = []
        self.seq = 0
        self.who = briefs.display_name(req.prospect)
        account = req.prospect.account
        self.names = {
            "who": self.who,
            "account": (account.name if account and account.name else "the account"),
            "competitor": req.competitor or "the competitor",
            "target": "the referred contact",
        }
        self.briefs: dict[tuple[str, str], str] = {}  # (rule, why) -> brief, reused by steps
        self.subjects: dict[TouchKind, str] = {}

    def add(
        self,
        kind: TouchKind,
        due: date,
        channel: Channel | None,
        rule_id: str,
        why: str,
        *,
        write: WriteKind = WriteKind.TASK,
        target: Prospect | None = None,
        priority: Priority = Priority.NORMAL,
        subject: str | None = None,
        brief: str | None = None,
        opt_out: frozenset[Channel] = frozenset(),
    ) -> Touch:
        req = self.req
        cfg = req.cfg.brief
        if subject is None and target is not None:
            names = {**self.names, "target": briefs.display_name(target)}
            subject = briefs.subject(kind, cfg, **names)
        elif subject is None:
            subject = self.subjects.get(kind)
            if subject is None:
                subject = self.subjects[kind] = briefs.subject(kind, cfg, **self.names)
        if brief is None:
            brief = self.briefs.get((rule_id, why))
            if brief is None:
                brief = briefs.compose(why, rule_id, req.shared_brief, cfg)
                self.briefs[(rule_id, why)] = brief
        touch = Touch(
            seq=self.seq,
            kind=kind,
            due=due,
            write=write,
            channel=TASK_CHANNEL[channel] if channel else TaskChannel.TODO,
            subject=subject,
            brief=brief,
            rule_id=rule_id,
            priority=priority,
            suppress_channel=channel,
            target=target.ref if target else None,
            opt_out_channels=opt_out,
        )
        self.seq += 1
        self.touches.append(touch)
        return touch
