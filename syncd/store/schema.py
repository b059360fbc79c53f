"""The state store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are UTC epoch seconds (float) and dates ISO strings, so both databases compare them
alike. JSON columns are stored compressed (`PackedJSON`, migration 10) but for the cursors'
boundary ids. Every table that a shard writes carries the shard name: several instances on
PostgreSQL split shards by lease, and the `shards.epoch` fencing token stops a process whose
lease was taken over from committing anything further.
"""

from __future__ import annotations

import sqlalchemy as sa

from syncd.store.packed import PackedJSON

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.Float, nullable=False),
)

shards = sa.Table(
    "shards",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("owner", sa.String(200)),  # instance id holding the lease
    sa.Column("lease_until", sa.Float),
    sa.Column("epoch", sa.Integer, nullable=False, server_default="0"),  # fencing token
    sa.Column("last_cycle_at", sa.Float),
    sa.Column("last_success_at", sa.Float),
    # migration 7: the last error a cycle ended with, and when the shard was stopped by one
    sa.Column("last_error", sa.String(500)),
    sa.Column("last_error_at", sa.Float),
    sa.Column("failed_at", sa.Float),  # set while the shard is stopped; cleared by a success
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("shard", sa.String(200), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("boundary_ids", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# An event id is unique only within its shard (two mailboxes or two portals hand out the
# same ids), so the shard is part of the key (migration 3). The person is their prospects
# row's integer id (migration 11), not their key again.
events = sa.Table(
    "events",
    metadata,
    sa.Column("shard", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(300), primary_key=True),
    sa.Column("prospect", sa.Integer, nullable=False, index=True),  # prospects.id
    sa.Column("occurred_at", sa.Float, nullable=False),
    sa.Column("processed_at", sa.Float, nullable=False),
    # the RejectionEvent, for history and briefs
    sa.Column("payload", PackedJSON("payload"), nullable=False),
)

prospects = sa.Table(
    "prospects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # migration 11
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("shard", sa.String(200), nullable=False),
    sa.Column("account_key", sa.String(300), index=True),
    sa.Column("outcome", sa.String(40)),  # the latest decision's outcome
    sa.Column("snapshot", PackedJSON("snapshot"), nullable=False),  # the Prospect as last seen
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ux_prospects_key", "key", unique=True),
)

# A plan's id is an integer (migration 11): the touches, the largest table, refer to their
# plan by it, and the plan to its person by the prospects row's id, instead of repeating the
# person's key. The id callers see, "<prospect key>#<generation>" (Plan.plan_id), is the
# pair (prospect, generation), which is unique.
plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("prospect", sa.Integer, nullable=False),  # prospects.id
    sa.Column("shard", sa.String(200), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("callback_on", sa.String(10)),
    sa.Column("status", sa.String(20), nullable=False),  # live | superseded | cancelled
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("rules", PackedJSON("rules"), nullable=False),
    # what writes need beyond the touch: source shard, opportunity id, the reply's thread
    sa.Column("context", PackedJSON("context"), nullable=False),
    sa.Column("reviewed_on", sa.String(10)),  # migration 2: the policy's daily review
    # migration 6: the part of the touches' briefs shared by the whole plan, zlib-compressed
    sa.Column("brief", sa.LargeBinary),
    sa.Index("ux_plans_prospect", "prospect", "generation", unique=True),
    sa.Index("ix_plans_review", "shard", "status", "reviewed_on", "id"),
)

touches = sa.Table(
    "touches",
    metadata,
    # the plan's integer id (migration 11); a person's touches are found through their plans,
    # an account's through its people's (store.touchsets), so the touch keeps neither key
    sa.Column("plan", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("shard", sa.String(200), nullable=False),
    sa.Column("due", sa.String(10), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),  # planned | materialised | cancelled
    sa.Column("touch", PackedJSON("touch"), nullable=False),  # the Touch
    sa.Column("outbox_key", sa.String(64)),
    sa.Column("note", sa.String(200)),  # why it was cancelled
    sa.Column("owner_id", sa.String(200)),  # migration 8: the plan's assignee, for daily load
    sa.Index("ix_touches_due", "shard", "state", "due"),
    sa.Index("ix_touches_owner_due", "owner_id", "due"),
)


outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),  # deterministic idempotency key
    sa.Column("shard", sa.String(200), nullable=False),  # the shard whose plan made it
    sa.Column("sink_shard", sa.String(200), nullable=False),  # the shard that writes it
    sa.Column("write", sa.String(20), nullable=False),
    sa.Column("prospect_key", sa.String(300), nullable=False, index=True),
    sa.Column("channel", sa.String(20)),  # the opt-out channel that cancels it
    sa.Column("spec", PackedJSON("spec"), nullable=False),  # the TouchSpec
    sa.Column(
        "status", sa.String(20), nullable=False
    ),  # pending|inflight|in_doubt|done|dead|cancelled
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("remote_id", sa.String(200)),
    sa.Column("last_error", sa.String(500)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("attempted_at", sa.Float),  # migration 5: when the last write call was started
    sa.Index("ix_outbox_work", "sink_shard", "status", "next_attempt_at"),
)

suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("prospect_key", sa.String(300), primary_key=True),
    sa.Column("channel", sa.String(20), primary_key=True),
    sa.Column("source", sa.String(300), nullable=False),  # the event that asked for it
    sa.Column("created_at", sa.Float, nullable=False),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("shard", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),  # decision | write | suppress | replay …
    sa.Column("subject", sa.String(300)),  # prospect key or outbox key
    sa.Column("data", PackedJSON("data"), nullable=False),
    # explain looks a subject up by equality only: on PostgreSQL a hash index keeps a 4-byte
    # code per row instead of the whole key (migration 11)
    sa.Index("ix_audit_subject", "subject", postgresql_using="hash"),
    sa.Index("ix_audit_at", "at"),  # migration 6: retention
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("shard", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # write | record
    sa.Column("ref", sa.String(300), nullable=False),  # outbox key or source record id
    sa.Column("error", sa.String(500), nullable=False),
    sa.Column("replayed_at", sa.Float),
)

# migration 4: replies held for a rep's review, one open row per person at most
reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("shard", sa.String(200), nullable=False),  # the shard whose plan holds the task
    sa.Column("prospect_key", sa.String(300), nullable=False),
    sa.Column("event_id", sa.String(300), nullable=False),  # the reply under review
    sa.Column("plan_id", sa.String(320), nullable=False),  # the plan holding the review task
    sa.Column("task_seq", sa.Integer, nullable=False),
    sa.Column("hold", PackedJSON("hold"), nullable=False),  # the ReviewHold
    sa.Column("status", sa.String(20), nullable=False),  # open | resolved | replaced
    sa.Column("resolution", sa.String(40)),
    sa.Column("opened_at", sa.Float, nullable=False),
    sa.Column("resolved_at", sa.Float),
    sa.Column("checked_at", sa.Float),  # when the CRM was last asked about it
    sa.Index("ix_reviews_open", "shard", "status", "checked_at"),
    sa.Index("ix_reviews_prospect", "prospect_key", "status"),
)

# migration 7: prospects, accounts and shards an admin paused (`syncd pause`)
pauses = sa.Table(
    "pauses",
    metadata,
    sa.Column("scope", sa.String(20), primary_key=True),  # prospect | account | shard
    sa.Column("ref", sa.String(300), primary_key=True),  # prospect/account key or shard name
    sa.Column("paused_at", sa.Float, nullable=False),
    sa.Column("reason", sa.String(500)),
)

# Migration 8: a nurtured prospect who came back, with the evidence of what brought them.
# One row per (prospect, what happened): re-reading the same opportunity or reply records
# nothing new.
outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("prospect_key", sa.String(300), primary_key=True),
    sa.Column("source_ref", sa.String(300), primary_key=True),  # opportunity id / event id
    sa.Column("shard", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),  # new_opportunity | interested_reply
    sa.Column("occurred_at", sa.Float, nullable=False, index=True),
    sa.Column("lost_at", sa.Float),  # the original no
    sa.Column("owner_id", sa.String(200)),
    sa.Column("loss_reason", sa.String(40)),
    sa.Column("competitor", sa.String(200)),
    sa.Column("worth_tier", sa.String(20)),
    sa.Column("amount", sa.Float),  # the new opportunity's amount
    # last touch, touches in the window
    sa.Column("attribution", PackedJSON("attribution"), nullable=False),
)
