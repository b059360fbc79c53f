"""The plan under construction: numbering, subjects, briefs, and the request it answers."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
from syncd.ownerload import DEFERRED_NOTE, OwnerLoad
from syncd.policy import brief as briefs
from syncd.policy.angles import Angles
from syncd.policy.brief import SUBJECTS
from syncd.policy.calendar import Calendar
from syncd.policy.config import PolicyConfig
from syncd.policy.entry_points import Suggestion
from syncd.policy.prepared import PreparedRelease
from syncd.policy.timing import Timing
from syncd.policy.touches import TASK_CHANNEL, KnownTouches

# Enum members read once: looking one up on its class costs more than building a string.
_TASK, _NORMAL, _TODO = WriteKind.TASK, Priority.NORMAL, TaskChannel.TODO


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


def deferred(touch: Touch, person: str, moved: set[tuple[str, int]], cfg: PolicyConfig) -> Touch:
    """Tell the rep why a task the daily cap moved lands later than it might have.

    `moved` holds the (person, day ordinal) pairs the cap moved, as `Scheduler.deferred`.
    """
    who = touch.target.key if touch.target is not None else person
    if (who, touch.due.toordinal()) not in moved:
        return touch
    return replace(touch, brief=deferred_brief(touch.brief, cfg))


def deferred_brief(brief: str, cfg: PolicyConfig) -> str:
    """The brief of a task the daily cap moved, opening with why it lands later."""
    return briefs.cut(f"{DEFERRED_NOTE} {brief}", cfg.brief.max_chars)


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
    owner_load: OwnerLoad | None = None  # the reps' daily load shared across plans
    seq_base: int = 0


class PlanBuilder:
    """Accumulates touches and the rules that made them."""

    def __init__(self, req: PlanRequest) -> None:
        self.req = req
        self.touches: list[Touch] = []
        self.hits: list[RuleHit] = []
        self.seq = 0
        self.who = briefs.display_name(req.prospect)
        self.person = req.ref.key  # built on every read: every placement needs it
        account = req.prospect.account
        self.names = {
            "who": self.who,
            "account": (account.name if account and account.name else "the account"),
            "competitor": req.competitor or "the competitor",
            "target": "the referred contact",
        }
        self.briefs: dict[tuple[str, str], str] = {}  # (rule, why) -> brief, reused by steps
        self.subjects: dict[TouchKind, str] = {}
        self.brief_cfg = req.cfg.brief
        self.subject_max = self.brief_cfg.subject_max_chars

    def add(
        self,
        kind: TouchKind,
        due: date,
        channel: Channel | None,
        rule_id: str,
        why: str,
        *,
        write: WriteKind = _TASK,
        target: Prospect | None = None,
        priority: Priority = _NORMAL,
        subject: str | None = None,
        brief: str | None = None,
        opt_out: frozenset[Channel] = frozenset(),
    ) -> Touch:
        if subject is None:
            if target is not None:
                names = {**self.names, "target": briefs.display_name(target)}
                subject = briefs.cut(SUBJECTS[kind].format_map(names), self.subject_max)
            else:
                subject = self.subjects.get(kind)
                if subject is None:
                    text = SUBJECTS[kind].format_map(self.names)
                    subject = self.subjects[kind] = briefs.cut(text, self.subject_max)
        if brief is None:
            brief = self.briefs.get((rule_id, why))
            if brief is None:
                brief = briefs.compose(why, rule_id, self.req.shared_brief, self.brief_cfg)
                self.briefs[(rule_id, why)] = brief
        # Positional: the frozen dataclass binds arguments noticeably faster than keywords.
        touch = Touch(
            self.seq,
            kind,
            due,
            write,
            TASK_CHANNEL[channel] if channel else _TODO,
            subject,
            brief,
            rule_id,
            priority,
            channel,
            target.ref if target else None,
            opt_out,
        )
        self.seq += 1
        self.touches.append(touch)
        return touch
