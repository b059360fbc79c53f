"""Wiring a loaded config into a running set of shards: store, connectors, engine.

Shared by `syncd run`, `once`, `plan` and `demo`, so they open, check and close things the
same way. CRM shards open first: a mailbox shard gets its CRM's connector as `peers["crm"]`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import sqlalchemy as sa
import structlog
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from structlog.contextvars import bound_contextvars

from syncd.clock import Clock, system_clock
from syncd.config import LoadedConfig, Shard, secret_refs
from syncd.connectors import (
    ConfigError,
    Connector,
    ConnectorPlugin,
    FatalSyncError,
    RetriableError,
    SetupIncomplete,
    ShardContext,
    load_plugin,
)
from syncd.dispatch import call_bound_s
from syncd.engine import CycleSummary, Engine
from syncd.leases import LeaseKeeper
from syncd.retry import call_with_retry
from syncd.secrets import SecretError, scrub
from syncd.store import Store, default_state_dir, default_url
from syncd.store.database import SchemaTooNew, check_version, current_version, normalise_url

log = structlog.get_logger(__name__)


def instance_id() -> str:
    """Who holds a shard lease: host and process, readable in `syncd status`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def state_dir(config: LoadedConfig) -> Path:
    """Where connectors keep their files: next to a SQLite store, else a directory of the
    default state directory named for the database (created when missing, private). Without
    it a connector's checkpoints would go to temporary files that neither survive a crash nor
    get removed after one; without the database in its name, a checkpoint left by one
    database (another deployment on the host, or one since replaced) would be resumed for
    another, and the records its finished pages held never read into it."""
    url = config.core.state.url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.split("///", 1)[1]).parent
    directory = default_state_dir() / database_dir_name(url or default_url())
    with contextlib.suppress(OSError):  # read-only home: connectors fall back to temporaries
        directory.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.mkdir(exist_ok=True, mode=0o700)
    return directory


def database_dir_name(url: str) -> str:
    """A directory name for this database: its host, port and name, never its credentials."""
    parsed = make_url(normalise_url(url))
    where = f"{parsed.get_backend_name()}://{parsed.host or ''}:{parsed.port or ''}/"
    where += f"{parsed.database or ''}?{parsed.query.get('host', '')}"
    return f"{parsed.get_backend_name()}-{hashlib.sha256(where.encode()).hexdigest()[:12]}"


def _state_url(config: LoadedConfig) -> str:
    url = config.core.state.url or default_url()
    if config.core.state.password is not None:
        try:
            password = config.core.state.password.reveal()
        except SecretError as exc:
            raise ConfigError(f"state.password: {exc}") from None
        parsed = make_url(normalise_url(url))
        url = parsed.set(password=password).render_as_string(hide_password=False)
    return url


def _unusable(url: str, exc: BaseException) -> ConfigError:
    if isinstance(exc, SchemaTooNew):
        return ConfigError(f"state.url: {exc}")
    where = make_url(normalise_url(url)).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
    return ConfigError(
        f"state.url: cannot open the state database {where} ({scrub(reason)}); check that "
        "it is running and reachable, and the user, password and database name"
    )


# DatabaseError: e.g. the file at a SQLite URL is something else ("file is not a database").
_UNUSABLE = (SchemaTooNew, sa_exc.DatabaseError, sa_exc.InterfaceError, OSError)


def open_store(
    config: LoadedConfig,
    *,
    read_only: bool = False,
    clock: Clock = system_clock,
    instance: str | None = None,
) -> Store:
    """The configured state store, on `clock`; `read_only` neither creates nor migrates it;
    `instance` (a daemon's owner id) names its sessions so the daemons can count each other.
    A database that cannot be used is a ConfigError with one line."""
    url = _state_url(config)
    if url.startswith("sqlite") and not read_only and not Path(url.split("///", 1)[-1]).exists():
        _check_sqlite_parent(Path(url.split("///", 1)[-1]))
    try:
        return Store.open(url, lambda: clock().timestamp(), read_only=read_only, instance=instance)
    except _UNUSABLE as exc:
        raise _unusable(url, exc) from None


def check_store(config: LoadedConfig) -> None:
    """For check-config: the state database answers and its schema is not newer than this
    syncd. Reads only: a SQLite file that does not exist yet is fine (the first run makes it)."""
    url = _state_url(config)
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).exists():
        _check_sqlite_parent(Path(url.split("///", 1)[-1]))
        return
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            check_version(current_version(conn))
    except _UNUSABLE as exc:
        raise _unusable(url, exc) from None
    finally:
        engine.dispose()


def _check_sqlite_parent(path: Path) -> None:
    """A state file that does not exist yet is made by the first run, in a directory it
    creates: the nearest existing ancestor must be a directory this user may write to."""
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        why = f"{ancestor} is not a directory"
    elif not os.access(ancestor, os.W_OK | os.X_OK):
        why = f"{ancestor} is not writable by this user"
    else:
        return
    raise ConfigError(
        f"state.url: the state file {path} cannot be created ({why}); "
        "choose a path in a writable directory"
    )


def shard_order(config: LoadedConfig) -> list[str]:
    """Enabled shards, CRMs (no `crm` key) first."""
    enabled = [n for n, s in config.shards.items() if s.core.enabled]
    return sorted(enabled, key=lambda n: (config.shards[n].core.crm is not None, n))


def _reveal_secrets(name: str, shard: Shard) -> None:
    """Resolve the shard's secrets before its connector opens, so a missing one is a
    configuration error naming its key (exit 78), not a crash inside the connector."""
    for where, ref in secret_refs(shard.settings, f"shards.{name}"):
        try:
            ref.reveal()
        except SecretError as exc:
            raise ConfigError(f"{where}: {exc}") from None


def _open_one(
    plugin: ConnectorPlugin, ctx: ShardContext, dry_run: bool
) -> tuple[Connector, list[str], str | None]:
    """Open one shard and run its start-up checks: (connector, notices, what its set-up
    lacks when a dry run keeps it anyway). A failing check closes what was opened."""
    conn = plugin.open(ctx)
    notices: list[str] = []
    try:
        with bound_contextvars(shard=ctx.name):
            for check in conn.checks:
                notice = check()
                if isinstance(notice, str):  # works, but not as well as it could
                    notices.append(notice)
    except SetupIncomplete as exc:
        if dry_run:  # a dry run only reads: keep it, and say what is missing
            return conn, notices, str(exc)
        conn.close()
        raise
    except BaseException:
        conn.close()
        raise
    return conn, notices, None


@dataclass
class Opened:
    """What opening the shards gave: the connectors, and the shards left out and why."""

    connectors: dict[str, Connector] = field(default_factory=dict)
    # shard -> what its remote set-up lacks (see SetupIncomplete); not run unless a dry run
    incomplete: dict[str, str] = field(default_factory=dict)
    notices: dict[str, list[str]] = field(default_factory=dict)  # degraded but working
    start_failed: dict[str, str] = field(default_factory=dict)  # transient errors at start-up


def open_connectors(
    config: LoadedConfig, *, dry_run: bool = False, sleep: Callable[[float], None] = time.sleep
) -> Opened:
    """Open every enabled shard.

    A shard whose remote set-up is incomplete is left out (a dry run keeps it: it only
    reads), with the mailboxes that write through it. A transient failure at start-up (429,
    5xx, a timeout) is retried with back-off (`[daemon] startup_attempts`); a shard that still
    cannot start is left out with a `shard.start_failed` event, and so are the mailboxes that
    write through it, while the other shards run. A configuration or credential problem
    still stops the command.
    """
    result = Opened()
    opened = result.connectors
    directory = state_dir(config)
    daemon = config.core.daemon
    try:
        for name in shard_order(config):
            shard = config.shards[name]
            crm = shard.core.crm
            if crm in result.incomplete and not dry_run:
                result.incomplete[name] = (
                    f"its CRM shard {crm} is not set up: {result.incomplete[crm]}"
                )
                _refused(name, result.incomplete[name])
                continue
            if crm in result.start_failed:
                result.start_failed[name] = f"its CRM shard {crm!r} did not start"
                log.error(
                    "shard.start_failed", shard=name, crm=crm, error=result.start_failed[name]
                )
                continue
            peers = dict(opened)
            if crm and crm in opened:
                peers["crm"] = opened[crm]
            plugin = load_plugin(shard.core.type)
            _reveal_secrets(name, shard)
            ctx = ShardContext(name, shard.settings, directory, peers, config.core.replies)
            try:
                conn, notices, missing = call_with_retry(
                    partial(_open_one, plugin, ctx, dry_run),
                    attempts=daemon.startup_attempts,
                    base_s=daemon.startup_retry_base_s,
                    max_s=daemon.startup_retry_max_s,
                    allow_in_doubt=True,  # start-up checks only read (or create idempotently)
                    sleep=sleep,
                    what=f"start {name}",
                )
            except SetupIncomplete as exc:
                result.incomplete[name] = str(exc)
                _refused(name, str(exc))
                continue
            except RetriableError as exc:
                result.start_failed[name] = str(exc)
                log.error(
                    "shard.start_failed",
                    shard=name,
                    error=str(exc),
                    attempts=daemon.startup_attempts,
                    action="the other shards run; this one starts again on the next reload "
                    "(systemctl reload syncd) or restart",
                )
                continue
            opened[name] = conn
            for notice in notices:
                result.notices.setdefault(name, []).append(notice)
                log.warning("shard.setup_notice", shard=name, notice=notice)
            if missing is not None:
                result.incomplete[name] = missing
    except BaseException:
        for conn in opened.values():
            conn.close()
        raise
    return result


def _refused(shard: str, why: str) -> None:
    log.error(
        "shard.setup_incomplete",
        shard=shard,
        problem=why,
        action=f"run `syncd doctor {shard}` and `syncd doctor {shard} --fix`; nothing is "
        "read or written for this shard until then",
    )


@dataclass
class Runtime:
    config: LoadedConfig
    store: Store
    connectors: dict[str, Connector]
    engine: Engine
    owner: str = field(default_factory=instance_id)
    # shard -> what its remote set-up lacks (see SetupIncomplete); not run unless a dry run
    incomplete: dict[str, str] = field(default_factory=dict)
    notices: dict[str, list[str]] = field(default_factory=dict)  # degraded but working
    start_failed: dict[str, str] = field(default_factory=dict)  # shard -> why it did not start
    fair_share: bool = False  # a daemon: split the shards with the other live daemons
    handed_over: list[str] = field(default_factory=list)  # released by the last acquire()
    leases: LeaseKeeper = field(init=False)

    def __post_init__(self) -> None:
        lease_s = self.config.core.state.lease_s
        self.leases = LeaseKeeper(self.store, self.owner, lease_s)
        for name, conn in self.connectors.items():
            # renewed every lease_s / 3, a lease has at least 2/3 of it left when a write
            # starts; a call bound above that would keep the shard's writes fenced
            if conn.sink is not None and call_bound_s(conn.sink) > lease_s * 2 / 3:
                log.warning(
                    "lease.shorter_than_calls",
                    shard=name,
                    lease_s=lease_s,
                    timeout_s=call_bound_s(conn.sink),
                    action="set [state] lease_s to at least 1.5 times the shard's timeout_s",
                )

    def acquire(self) -> list[str]:
        """Take the lease of every shard we don't hold yet, up to our fair share when several
        daemons share the store; recover the interrupted writes of those we take. Shards held
        beyond the share are handed over (this runs between cycles), so an instance started
        later gets its part. Returns every shard we hold (the keeper renews the ones we had)."""
        held = self.leases.held()
        live = self.store.live_instances() if self.fair_share else None
        limit = -(-len(self.connectors) // live) if live else len(self.connectors)
        self.handed_over = [n for n in self.connectors if n in held][limit:]
        for name in self.handed_over:
            self.leases.drop(name)
            self.store.release_shard(name, self.owner)
            del held[name]
            log.info("shard.handed_over", shard=name, instances=live, share=limit)
        for name in self.connectors:
            if name in held or len(held) >= limit:
                continue
            epoch = self.store.acquire_shard(name, self.owner, self.config.core.state.lease_s)
            if epoch is None:
                log.info("shard.leased_elsewhere", shard=name)
                continue
            self.engine.epochs[name] = epoch
            self.leases.hold(name, epoch)
            sink = self.connectors[name].sink
            # a previous holder's unanswered writes: look them up once the index caught up
            grace = 0.0 if sink is None or sink.idempotent else sink.find_grace_s
            recovered = self.store.recover_inflight(name, grace)
            if recovered:
                log.warning("write.recovered_in_doubt", shard=name, count=recovered)
            held[name] = epoch
        return [name for name in self.connectors if name in held]

    def release(self) -> None:
        self.leases.stop()
        for name in self.leases.held():
            self.store.release_shard(name, self.owner)

    def once(self) -> dict[str, CycleSummary]:
        """One cycle of every shard we hold, then a last dispatch pass so that writes
        routed to another shard (a mailbox's tasks go to its CRM) go out in the same run."""
        if not self.engine.dry_run:
            for name, why in self.incomplete.items():
                self.store.record_error(name, f"not set up: {why}", failed=True)
        summaries = {}
        for name in self.acquire():
            try:
                summaries[name] = self.engine.cycle(name)
            except Exception as exc:
                if not self.engine.dry_run:  # `syncd status` shows it, like the daemon's
                    fatal = isinstance(exc, FatalSyncError)
                    self.store.record_error(name, error_text(exc), failed=fatal)
                raise
        if not self.engine.dry_run:
            for name, summary in summaries.items():
                self.engine.dispatch(name, summary)
                self.store.mark_success(name)
        return summaries

    def close(self) -> None:
        for conn in self.connectors.values():
            conn.close()
        self.store.close()


@contextmanager
def runtime(
    config: LoadedConfig,
    *,
    dry_run: bool = False,
    clock: Clock = system_clock,
    sleep: Callable[[float], None] = time.sleep,
    instance: str | None = None,
) -> Iterator[Runtime]:
    """The opened store, connectors and engine. `instance` (a daemon's owner id) makes it
    one of possibly several daemons that split the shards fairly (`Runtime.acquire`)."""
    # the store's times follow the engine's clock
    store = open_store(config, clock=clock, instance=instance)
    try:
        opened = open_connectors(config, dry_run=dry_run, sleep=sleep)
    except BaseException:
        store.close()
        raise
    engine = Engine(config, store, opened.connectors, clock=clock, dry_run=dry_run)
    rt = Runtime(
        config,
        store,
        opened.connectors,
        engine,
        owner=instance or instance_id(),
        incomplete=opened.incomplete,
        notices=opened.notices,
        start_failed=opened.start_failed,
        fair_share=instance is not None,
    )
    if not dry_run:
        rt.leases.start()
    try:
        yield rt
    finally:
        if not dry_run:
            rt.release()
        rt.close()


def error_text(exc: BaseException) -> str:
    """What `syncd status` shows of a cycle's error: the class, and the message of syncd's
    own errors (they carry codes and ids, never record contents)."""
    from syncd.connectors import SyncError

    name = type(exc).__name__
    return f"{name}: {exc}" if isinstance(exc, SyncError) else name


def summary_json(summaries: dict[str, CycleSummary]) -> dict[str, object]:
    return {"shards": {name: s.as_dict() for name, s in summaries.items()}}
