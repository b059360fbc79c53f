"""The domain model every part of syncd speaks.

Connectors translate vendor shapes into these types at their boundary, so the engine,
the policy and the store never see a Salesforce dict or a HubSpot model. Everything is a
frozen dataclass: cheap to build (the policy decides tens of thousands of these a second),
hashable where it is used as a key, and impossible to mutate behind another module's back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from syncd.ownerload import OwnerLoad


class Channel(StrEnum):
    """A way of reaching a person; opt-outs are recorded per channel."""

    EMAIL = "email"
    PHONE = "phone"
    LINKEDIN = "linkedin"
    MAIL = "mail"  # postal: handwritten notes


ALL_CHANNELS: frozenset[Channel] = frozenset(Channel)
ACCOUNT_KIND = "account"  # ProspectRef.kind of an account-level plan's subject


class SourceKind(StrEnum):
    """Where a rejection came from."""

    OPPORTUNITY = "opportunity"  # closed-lost opportunity / deal
    LEAD = "lead"  # lead or contact status mapped to a rejection
    REPLY = "reply"  # a prospect's e-mail reply


class ReasonKind(StrEnum):
    """The policy's reasons for a "no"; CRM values are mapped onto these in config."""

    NOT_NOW = "not_now"
    BUDGET = "budget"
    COMPETITOR = "competitor"
    PRODUCT_GAP = "product_gap"
    NO_DECISION = "no_decision"
    HOSTILE = "hostile"
    NOT_INTERESTED = "not_interested"
    NOT_A_FIT = "not_a_fit"
    OTHER = "other"


class Intent(StrEnum):
    """Reply intents recognised in a prospect's e-mail."""

    INTERESTED = "interested"
    NOT_NOW = "not_now"
    NOT_INTERESTED = "not_interested"
    COMPETITOR = "competitor"
    OPT_OUT = "opt_out"
    OUT_OF_OFFICE = "out_of_office"
    REFERRAL = "referral"
    OTHER = "other"


class ContactFallback(StrEnum):
    """Who a lost deal's follow-up is about when the deal names no contact (the order is
    configured per CRM shard); none found: an account-level plan for the deal's owner."""

    OPPORTUNITY_CONTACT = "opportunity_contact"  # Salesforce Opportunity.ContactId
    RECENT_ACTIVITY = "recent_activity"  # the account's most recently active contact
    PRIMARY_CONTACT = "primary_contact"  # the account's primary contact
    ACCOUNT_PLAN = "account_plan"  # nobody: "find the right person at <account>"


class WriteKind(StrEnum):
    """What a sink is asked to create; a sink declares the kinds it supports."""

    TASK = "task"  # a CRM task for the owner
    DRAFT = "draft"  # an e-mail draft in the prospect's thread
    OPT_OUT = "opt_out"  # set opt-out flags in the CRM
    ENROL = "enrol"  # nurture enrolment (campaign / static list)


class TaskChannel(StrEnum):
    """How the rep is asked to make the touch; sinks map it to TaskSubtype / hs_task_type."""

    CALL = "call"
    EMAIL = "email"
    LINKEDIN = "linkedin"
    TODO = "todo"


class Priority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class AccountRef:
    system: str  # the shard name the id belongs to
    id: str

    @property
    def key(self) -> str:
        return f"{self.system}:account:{self.id}"


@dataclass(frozen=True, slots=True)
class ProspectRef:
    """A person in one CRM: a contact or a lead."""

    system: str  # the shard name the id belongs to
    kind: str  # "contact" | "lead"
    id: str

    @property
    def key(self) -> str:
        return f"{self.system}:{self.kind}:{self.id}"

    @property
    def is_account(self) -> bool:
        """An account standing in for a person nobody named (an account-level plan)."""
        return self.kind == ACCOUNT_KIND

    @staticmethod
    def parse(key: str) -> ProspectRef:
        """Inverse of `key`: shard names and kinds hold no colon, an id may ("new:…")."""
        system, kind, ident = key.split(":", 2)
        return ProspectRef(system, kind, ident)


@dataclass(frozen=True, slots=True)
class Owner:
    id: str
    timezone: str = "UTC"  # IANA name
    is_queue: bool = False  # Salesforce queues cannot own tasks
    active: bool = True  # a deactivated user keeps owning records but must not get tasks


@dataclass(frozen=True, slots=True)
class Account:
    ref: AccountRef
    name: str | None = None
    employees: int | None = None
    annual_revenue: float | None = None
    industry: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2 when the CRM gives it, else as stored
    custom: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    products_offered: frozenset[str] = frozenset()
    owner_id: str | None = None  # the account owner: the first fallback for an inactive owner


@dataclass(frozen=True, slots=True)
class Prospect:
    ref: ProspectRef
    account: Account | None = None
    owner: Owner | None = None
    email: str | None = None  # personal data: stored, never logged
    name: str | None = None
    title: str | None = None
    department: str | None = None
    opted_out: frozenset[Channel] = frozenset()


@dataclass(frozen=True, slots=True)
class ReplyInfo:
    """What the reply classifier found in an inbox reply."""

    intent: Intent
    message_id: str  # RFC 822 Message-ID, for threading the acknowledgement
    thread_id: str  # mailbox thread id
    subject: str = ""
    references: str = ""
    mailbox_id: str = ""  # the mailbox's own id of the reply (Gmail / Graph message id)
    opt_out_channels: frozenset[Channel] = frozenset()
    return_date: date | None = None
    followup_after: date | None = None
    referral_email: str | None = None
    competitor: str | None = None
    auto_reply: bool = False
    gatekeeper: bool = False
    hostile: bool = False
    evidence: tuple[str, ...] = ()
    confidence: float = 1.0
    review: bool = False  # a rep must read it before any automated touch to this person
    review_reasons: tuple[str, ...] = ()
    text: str = ""  # the reply's extracted new text: personal data, for the review task only


@dataclass(frozen=True, slots=True)
class RejectionEvent:
    """One "no": a closed-lost deal, a rejected lead, or a prospect's reply.

    `event_id` is stable for the same occurrence (re-reading it must not count twice) but
    unique only within the shard that read it: two mailboxes or two portals hand out the same
    ids, so `(shard, event_id)` is the identity (`shard` is set by the engine on reading);
    `position` is the source's cursor value for this record (e.g. its modstamp).
    """

    event_id: str
    source: SourceKind
    occurred_at: datetime
    prospect: Prospect
    position: str = ""
    reason_raw: str | None = None  # the CRM's loss reason / lead status, unmapped
    reason: ReasonKind | None = None  # mapped by the connector when it knows, else by policy
    competitor: str | None = None
    amount: float | None = None
    currency: str | None = None
    stage: str | None = None
    opportunity_id: str | None = None
    stated_date: date | None = None  # "reach out in September"
    quote: str | None = None  # their words, trimmed; personal data, never logged
    reply: ReplyInfo | None = None
    related: tuple[Prospect, ...] = ()  # other people on the same deal
    shard: str = ""  # the shard that read it ("" for events the policy makes itself)
    # Set when the deal named no contact: how its person was found instead (never silent).
    contact_fallback: ContactFallback | None = None

    @property
    def identity(self) -> tuple[str, str]:
        return (self.shard, self.event_id)


@dataclass(frozen=True, slots=True)
class Cursor:
    """A typed incremental position: closed start at `value`, `boundary_ids` already seen there."""

    value: str
    boundary_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Page:
    events: list[RejectionEvent]
    cursor: Cursor
    # Records of this page that can never be read (a vendor answer of the wrong shape):
    # (record id, why). The engine dead-letters them with the page, so none is lost silently.
    unreadable: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class NewOpportunity:
    """An open opportunity or deal created on an account: a nurtured prospect may be back.

    `position` is the source's cursor value for it (its creation time)."""

    id: str
    account: AccountRef
    created_at: datetime
    position: str
    amount: float | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class OpportunityPage:
    opportunities: list[NewOpportunity]
    cursor: Cursor


NEW_OPPORTUNITY = "new_opportunity"  # Reengagement.kind
INTERESTED_REPLY = "interested_reply"


@dataclass(frozen=True, slots=True)
class Reengagement:
    """One nurtured prospect who came back, ready to store (the `outcomes` table's row)."""

    prospect_key: str
    source_ref: str  # the new opportunity's id, or the reply event's id
    kind: str  # NEW_OPPORTUNITY | INTERESTED_REPLY
    occurred_at: datetime
    lost_at: datetime | None
    owner_id: str | None
    loss_reason: str
    competitor: str | None
    worth_tier: str
    amount: float | None
    attribution: dict[str, Any]


class TouchKind(StrEnum):
    THANK_YOU = "thank_you"
    INSIGHT_EMAIL = "insight_email"
    LINKEDIN = "linkedin"
    CASE_STUDY = "case_study"
    PRODUCT_UPDATE = "product_update"
    HANDWRITTEN_NOTE = "handwritten_note"
    CALL = "call"
    CHECK_IN = "check_in"  # competitor: "how is it going with X?"
    CALLBACK = "callback"
    RELEASE = "release"  # "we improved": a release addresses their reason
    ENTRY_POINT = "entry_point"  # another contact at the account
    GATEKEEPER = "gatekeeper"
    REFERRAL = "referral"
    URGENT = "urgent"  # interested reply / re-engaged: tell the owner now
    OPT_OUT = "opt_out"  # write the opt-out flag back
    ENROL = "enrol"  # nurture enrolment
    REVIEW = "review"  # a reply syncd cannot read with confidence: a rep reads it and decides


@dataclass(frozen=True, slots=True)
class Touch:
    """One planned contact; becomes a TouchSpec in the outbox when it is due within the horizon."""

    seq: int  # stable within a plan: part of the idempotency key
    kind: TouchKind
    due: date
    write: WriteKind
    channel: TaskChannel
    subject: str
    brief: str
    rule_id: str
    priority: Priority = Priority.NORMAL
    suppress_channel: Channel | None = None  # the opt-out channel that cancels it
    target: ProspectRef | None = None  # someone other than the plan's prospect
    opt_out_channels: frozenset[Channel] = frozenset()  # for WriteKind.OPT_OUT


@dataclass(frozen=True, slots=True)
class Plan:
    prospect: ProspectRef
    generation: int  # increments when a new "no" restarts the plan
    callback_on: date | None
    touches: tuple[Touch, ...]

    @property
    def plan_id(self) -> str:
        return f"{self.prospect.key}#{self.generation}"


class Outcome(StrEnum):
    NURTURE = "nurture"
    NOT_A_FIT = "not_a_fit"
    OPTED_OUT = "opted_out"
    ACTIVE = "active"  # re-engaged or already being worked: stop nurturing, tell the owner
    AUTO_REPLY = "auto_reply"
    IGNORED = "ignored"
    REVIEW = "review"  # held until a rep has read a reply syncd could not read with confidence


class TaskStatus(StrEnum):
    """The state of a task syncd wrote, as the CRM reports it now."""

    OPEN = "open"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class ReviewHold:
    """An open review: a reply nobody has read yet holds every automated touch to the person.

    `resolution` is None while the rep has not acted; the engine sets it from what the CRM
    shows ("task_completed", "opt_out_flag") before asking the policy to resume or end.
    """

    event_id: str  # the reply under review
    opened_on: date
    reasons: tuple[str, ...] = ()
    email_held: bool = False  # the opt-out safety net fired: no e-mail until resolved
    opted_out: frozenset[Channel] = frozenset()  # the CRM's flags when it opened
    resolution: str | None = None


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired and the inputs it used: the decision's audit trail."""

    rule_id: str
    inputs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class Decision:
    event_id: str
    prospect: ProspectRef
    outcome: Outcome
    plan: Plan | None
    rules: tuple[RuleHit, ...]
    suppress: frozenset[Channel] = frozenset()
    cancel_plan: bool = False  # drop the prospect's live plan (not a fit / re-engaged)
    hold: ReviewHold | None = None  # open (or replace) the person's review hold
    resolved: str | None = None  # close the person's open review hold: how it was resolved


@dataclass(frozen=True, slots=True)
class TouchRecord:
    """A touch that was made (or materialised), as history for the policy."""

    kind: TouchKind
    channel: TaskChannel
    due: date
    prospect_key: str
    account_key: str | None = None


@dataclass(frozen=True, slots=True)
class History:
    """What syncd already knows about a prospect when a new event arrives."""

    prospect: Prospect | None = None
    rejections: tuple[RejectionEvent, ...] = ()  # earlier ones, oldest first
    touches: tuple[TouchRecord, ...] = ()  # made and planned, for this person
    account_touches: tuple[TouchRecord, ...] = ()  # for everyone at the account
    plan: Plan | None = None
    suppressed: frozenset[Channel] = frozenset()
    active: bool = False  # open opportunity or open rep task (from the Directory)
    colleagues: tuple[Prospect, ...] = ()
    # The owners' daily task counts, shared by the plans of one page (None: no daily cap).
    owner_load: OwnerLoad | None = field(default=None, compare=False, hash=False)
    review: ReviewHold | None = None  # an open review holds every touch but its task


@dataclass(frozen=True, slots=True)
class TouchSpec:
    """A write request handed to a sink; `key` makes it idempotent."""

    key: str
    write: WriteKind
    prospect: ProspectRef
    due: date
    subject: str
    body: str
    channel: TaskChannel = TaskChannel.TODO
    priority: Priority = Priority.NORMAL
    owner_id: str | None = None
    account_id: str | None = None
    opportunity_id: str | None = None
    opt_out_channels: frozenset[Channel] = frozenset()
    # drafts: where the reply goes
    to_email: str | None = None
    thread_id: str | None = None
    in_reply_to: str | None = None
    references: str | None = None
    # The reply's own facts, read with it, so drafting needs no second look at the thread:
    # its Subject (the draft's "Re: …") and the mailbox's id of it. None in touches stored
    # before they were carried: the sink then reads the thread once.
    thread_subject: str | None = None
    reply_id: str | None = None


class WriteStatus(StrEnum):
    OK = "ok"
    RETRY = "retry"  # not applied (429, 401, lock): send again later
    IN_DOUBT = "in_doubt"  # may have been applied (5xx, timeout, reset)
    FAILED = "failed"  # permanent: dead-letter it


@dataclass(frozen=True, slots=True)
class WriteResult:
    key: str
    status: WriteStatus
    remote_id: str | None = None
    error: str | None = None  # vendor error code, never a message body
    retry_after_s: float | None = None


def touch_key(shard: str, prospect_key: str, plan_id: str, seq: int) -> str:
    """The outbox idempotency key: deterministic, so a replay yields the same key."""
    raw = f"{shard}\x1f{prospect_key}\x1f{plan_id}\x1f{seq}".encode()
    return hashlib.sha256(raw).hexdigest()[:40]


def id_hash(value: str) -> str:
    """A short stable hash for logging something that must not appear in clear (an address)."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:12]
