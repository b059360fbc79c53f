"""The state store: cursors, prospects and their history, plans, the outbox, audit, dead letters."""

from syncd.store.database import default_state_dir, default_url
from syncd.store.gateway import (
    LeaseLost,
    Materialisation,
    OutboxItem,
    Outcome,
    PlannedTouch,
    Store,
    StoredHistory,
)
from syncd.store.pauses import SCOPES, Pause, Paused
from syncd.store.reviews import OpenReview

__all__ = [
    "SCOPES",
    "LeaseLost",
    "Materialisation",
    "OpenReview",
    "OutboxItem",
    "Outcome",
    "Pause",
    "Paused",
    "PlannedTouch",
    "Store",
    "StoredHistory",
    "default_state_dir",
    "default_url",
]
