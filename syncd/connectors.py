"""The connector seam: Protocols, the error taxonomy, and plugin loading.

A connector is a plugin registered under the `syncd.connectors` entry-point group; the
built-in Salesforce, HubSpot and Gmail connectors register exactly like a third-party one.
Errors are grouped by what the daemon does next, so each connector translates its vendor's
exceptions in one place (keeping the original as ``__cause__``) and the engine never has to
know a vendor.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from syncd.model import (
    AccountRef,
    Channel,
    Cursor,
    OpportunityPage,
    Owner,
    Page,
    Prospect,
    ProspectRef,
    TaskStatus,
    TouchSpec,
    WriteKind,
    WriteResult,
)
from syncd.replies.config import RepliesConfig

ENTRY_POINT_GROUP = "syncd.connectors"


# --- errors: named by what happens next ------------------------------------------------


class SyncError(Exception):
    """Base of everything a connector may raise on purpose."""


class ConfigError(SyncError):
    """The configuration cannot work (bad key, missing field in the org): exit 78."""


class SetupIncomplete(SyncError):
    """The remote set-up lacks something writes need (the idempotency key field or property).

    Reads still work, so `plan` shows what would happen and says what is missing; `run` and
    `once` leave the shard alone until `syncd doctor SHARD --fix` (or the admin) adds it.
    """


class FatalSyncError(SyncError):
    """Auth revoked or the account disabled: stop this shard and alert, don't retry."""


class RetriableError(SyncError):
    """429, 5xx, timeouts, locks: back off (honouring `retry_after_s`) and try again."""

    def __init__(self, message: str, *, retry_after_s: float | None = None, in_doubt: bool = False):
        super().__init__(message)
        self.retry_after_s = retry_after_s
        # True when a write may have been applied although no answer came (5xx, timeout, reset)
        self.in_doubt = in_doubt


class MalformedAnswer(RetriableError):
    """A 2xx answer of the wrong shape (truncated, an HTML page from a proxy, keys missing):
    never read as an empty page. Retried; a write's malformed answer is in doubt."""


class SkippableRecordError(SyncError):
    """One record is malformed or refused: dead-letter it and go on with the rest."""

    def __init__(self, message: str, *, record_id: str | None = None):
        super().__init__(message)
        self.record_id = record_id


# --- the three roles --------------------------------------------------------------------


@runtime_checkable
class Source(Protocol):
    """Reads "no" signals incrementally.

    `read` starts at `cursor.value` inclusive (closed start), skips `cursor.boundary_ids`,
    never returns records positioned after `until` (now minus the index lag), and yields
    pages in position order, each with the cursor to resume after it.
    """

    def read(self, cursor: Cursor | None, until: datetime) -> Iterator[Page]: ...


# A Source may also define `acknowledge(events: Sequence[RejectionEvent]) -> None`; the engine
# calls it after the page holding these events is committed (e.g. Gmail labels the messages).


# A Directory may also define `absent_means_deleted(ref: ProspectRef) -> bool`: True when a
# person of that ref's kind that `prospects` did not return no longer exists in the CRM
# (deleted, merged away). Touches about them are then cancelled instead of failing at the
# vendor; without it, a missing person is written to from the last known state.


@runtime_checkable
class Directory(Protocol):
    """Looks people up at decision and write time, always in batches."""

    def prospects(self, refs: Sequence[ProspectRef]) -> dict[ProspectRef, Prospect]:
        """Current state (incl. opt-out flags) of these people; unknown refs are absent."""
        ...

    def colleagues(self, accounts: Sequence[AccountRef]) -> dict[AccountRef, list[Prospect]]:
        """Other people at these accounts (another entry point)."""
        ...

    def active(self, refs: Sequence[ProspectRef]) -> set[ProspectRef]:
        """Those with an open opportunity or an open rep task: already being worked."""
        ...

    def find_by_email(self, emails: Sequence[str]) -> dict[str, Prospect]:
        """Match reply senders to CRM people (keys lower-cased)."""
        ...


@runtime_checkable
class Reengagements(Protocol):
    """Reads what brings a nurtured prospect back: open opportunities created since the cursor.

    Same discipline as `Source.read`: closed start at the cursor, boundary ids skipped,
    nothing after `until`. With no cursor yet it returns one page with no opportunity and a
    cursor at `until`: nobody was nurtured before syncd ran, so there is no history to scan.
    """

    def new_opportunities(
        self, cursor: Cursor | None, until: datetime
    ) -> Iterator[OpportunityPage]: ...


class OwnerDirectory(Protocol):
    """Optional Directory role: who may be given tasks (see syncd/owners.py)."""

    def owners(self, ids: Sequence[str]) -> dict[str, Owner]:
        """These user or queue ids as the CRM knows them now: time zone, queue, active.
        Ids it does not know are absent; a deactivated user is present with active=False
        or absent. One call at most, whatever the number of ids."""
        ...


@runtime_checkable
class Sink(Protocol):
    """Writes touches idempotently by `TouchSpec.key`."""

    @property
    def supports(self) -> frozenset[WriteKind]:
        """The write kinds this sink handles."""
        ...

    @property
    def idempotent(self) -> bool:
        """True when re-sending a key can never duplicate (upsert on an external id): in-doubt
        writes are then re-sent at once instead of being looked up after a grace period."""
        ...

    @property
    def find_grace_s(self) -> float:
        """How long after an in-doubt write `find` can be trusted (the vendor's index lag)."""
        ...

    @property
    def batch_size(self) -> int:
        """The largest batch one `write` call takes."""
        ...

    def write(self, batch: Sequence[TouchSpec]) -> list[WriteResult]:
        """One result per input, same order; per-record failures are results, not raises."""
        ...

    def find(self, keys: Sequence[str]) -> dict[str, str]:
        """Remote ids of the keys that exist remotely (in-doubt reconciliation)."""
        ...

    # A Sink may also define `call_timeout_s: float`, the longest one `write` call can take
    # (its HTTP timeout). A call is started only while the shard's lease has that much time
    # left; without it the engine assumes 30 s.

    def suppress(self, ref: ProspectRef, channels: frozenset[Channel]) -> None:
        """Set the CRM's opt-out flags for these channels (idempotent)."""
        ...


@runtime_checkable
class TaskTracker(Protocol):
    """A sink that can report on the tasks it wrote: how a rep resolves a review in the CRM.

    Optional: a sink without it (a mailbox) leaves review holds to the other signals (an
    opt-out flag, open work, a new status). Looked up in batches, never one call per task.
    """

    def task_status(self, keys: Sequence[str]) -> dict[str, TaskStatus]:
        """The state of each task written under these keys; keys not found are absent."""
        ...


@dataclass
class Connector:
    """An opened connector instance (one shard): the roles it plays, and how to close it."""

    source: Source | None = None
    directory: Directory | None = None
    sink: Sink | None = None
    reengagements: Reengagements | None = None
    # Checks run before READY, read-only: raise ConfigError / FatalSyncError when the shard
    # cannot work, SetupIncomplete when it can read but must not write yet.
    checks: list[Any] = field(default_factory=list)
    # Quota headroom 0..1 (remaining share of the vendor's budget), for metrics; None = unknown.
    quota_remaining: Any = None

    def close(self) -> None:
        for role in (self.source, self.directory, self.sink):
            closer = getattr(role, "close", None)
            if callable(closer):
                closer()


@dataclass(frozen=True)
class ShardContext:
    """What a plugin is given to open a shard."""

    name: str
    settings: BaseModel  # the plugin's validated settings model (SecretRef fields reveal lazily)
    state_dir: Path
    peers: Mapping[str, Connector] = field(default_factory=dict)  # other shards, by name
    replies: RepliesConfig | None = None  # the [replies] section, for mailbox connectors


class ConnectorPlugin(Protocol):
    """What an entry point in `syncd.connectors` resolves to."""

    type_name: str
    settings_model: type[BaseModel]

    def open(self, ctx: ShardContext) -> Connector: ...


# Optional plugin hooks, found with getattr on the plugin object:
#   doctor(settings: BaseModel, fix: bool = False) -> list[syncd.doctor.Check]
#       every check of the remote set-up, each with the fix; `fix` may create the key field
#   sandbox: SandboxPart                        a seeded local fake for `syncd sandbox` / `demo`
#   auth(settings: BaseModel, argv: list[str]) -> int   interactive credential set-up


@dataclass
class SandboxShard:
    """One running fake and the config section that points a shard at it."""

    name: str  # the shard name to use in the config, e.g. "salesforce"
    base_url: str
    section: dict[str, Any]  # [shards.NAME] keys, `type` included; secrets as file: refs
    stop: Any  # Callable[[], None]
    fake: Any = None  # the running fake server (tests switch it read-only, inspect it)


class SandboxPart(Protocol):
    """A connector's contribution to the sandbox."""

    order: int  # CRMs (0) start before mailboxes (10), which reference a CRM shard

    def start(
        self, *, port: int, seed: str, workdir: Path, crm_shards: Mapping[str, str]
    ) -> SandboxShard:
        """Start the fake on 127.0.0.1:`port` (0 = any), seeded with `seed` ("demo" draws
        from `syncd.testing.demo_data.demo_world()`, "empty" seeds nothing). Secrets the shard
        needs are written as 0600 files under `workdir`. `crm_shards` maps CRM type names
        ("salesforce", "hubspot") to the shard names already started."""
        ...


def known_connector_types() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def load_plugin(type_name: str) -> ConnectorPlugin:
    """Load a connector plugin by type name; an unknown name lists the known ones."""
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == type_name]
    if not matches:
        known = ", ".join(known_connector_types()) or "(none installed)"
        raise ConfigError(f"unknown connector type {type_name!r}; known types: {known}")
    plugin: ConnectorPlugin = matches[0].load()
    return plugin
