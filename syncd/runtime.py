"""Wiring a loaded config into a running set of shards: store, connectors, engine.

Shared by `syncd run`, `once`, `plan` and `demo`, so they open, check and close things the
same way. CRM shards open first: a mailbox shard gets its CRM's connector as `peers["crm"]`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from sqlalchemy.engine import make_url
from structlog.contextvars import bound_contextvars

from syncd.clock import Clock, system_clock
from syncd.config import LoadedConfig
from syncd.connectors import (
    Connector,
    FatalSyncError,
    SetupIncomplete,
    ShardContext,
    load_plugin,
)
from syncd.dispatch import call_bound_s
from syncd.engine import CycleSummary, Engine
from syncd.leases import LeaseKeeper
from syncd.store import Store, default_state_dir, default_url
from syncd.store.database import normalise_url

log = structlog.get_logger(__name__)


def instance_id() -> str:
    """Who holds a shard lease: host and process, readable in `syncd status`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def state_dir(config: LoadedConfig) -> Path:
    url = config.core.state.url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.split("///", 1)[1]).parent
    return default_state_dir()


def open_store(
    config: LoadedConfig,
    *,
    read_only: bool = False,
    clock: Clock = system_clock,
    instance: str | None = None,
) -> Store:
    """The configured state store, on `clock`; `read_only` neither creates nor migrates it;
    `instance` (a daemon's owner id) names its sessions so the daemons can count each other."""
    url = config.core.state.url or default_url()
    if config.core.state.password is not None:
        parsed = make_url(normalise_url(url))
        url = parsed.set(password=config.core.state.password.reveal()).render_as_string(
            hide_password=False
        )
    return Store.open(url, lambda: clock().timestamp(), read_only=read_only, instance=instance)


def shard_order(config: LoadedConfig) -> list[str]:
    """Enabled shards, CRMs (no `crm` key) first."""
    enabled = [n for n, s in config.shards.items() if s.core.enabled]
    return sorted(enabled, key=lambda n: (config.shards[n].core.crm is not None, n))


def open_connectors(
    config: LoadedConfig, *, dry_run: bool = False
) -> tuple[dict[str, Connector], dict[str, str], dict[str, list[str]]]:
    """The enabled shards' connectors, the shards whose remote set-up is incomplete (with
    why), and notices of set-up that works but should be fixed. A dry run keeps incomplete
    shards (it only reads); otherwise they are left out, with the mailboxes that write
    through them."""
    opened: dict[str, Connector] = {}
    incomplete: dict[str, str] = {}
    notices: dict[str, list[str]] = {}
    directory = state_dir(config)
    try:
        for name in shard_order(config):
            shard = config.shards[name]
            crm = shard.core.crm
            if crm in incomplete and not dry_run:
                incomplete[name] = f"its CRM shard {crm} is not set up: {incomplete[crm]}"
                _refused(name, incomplete[name])
                continue
            peers = dict(opened)
            if crm and crm in opened:
                peers["crm"] = opened[crm]
            plugin = load_plugin(shard.core.type)
            ctx = ShardContext(name, shard.settings, directory, peers, config.core.replies)
            conn = opened[name] = plugin.open(ctx)
            try:
                with bound_contextvars(shard=name):
                    for check in conn.checks:
                        notice = check()
                        if isinstance(notice, str):  # works, but not as well as it could
                            notices.setdefault(name, []).append(notice)
                            log.warning("shard.setup_notice", notice=notice)
            except SetupIncomplete as exc:
                incomplete[name] = str(exc)
                if not dry_run:
                    del opened[name]
                    conn.close()
                    _refused(name, str(exc))
    except BaseException:
        for conn in opened.values():
            conn.close()
        raise
    return opened, incomplete, notices


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
    instance: str | None = None,
) -> Iterator[Runtime]:
    """The opened store, connectors and engine. `instance` (a daemon's owner id) makes it
    one of possibly several daemons that split the shards fairly (`Runtime.acquire`)."""
    # the store's times follow the engine's clock
    store = open_store(config, clock=clock, instance=instance)
    try:
        connectors, incomplete, notices = open_connectors(config, dry_run=dry_run)
    except BaseException:
        store.close()
        raise
    engine = Engine(config, store, connectors, clock=clock, dry_run=dry_run)
    rt = Runtime(
        config,
        store,
        connectors,
        engine,
        owner=instance or instance_id(),
        incomplete=incomplete,
        notices=notices,
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
