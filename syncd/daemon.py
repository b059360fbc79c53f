"""`syncd run`: the long-running loop, its signals and its conversation with systemd.

Each shard runs a cycle on its own poll interval, all from the main thread, which also sends
the watchdog pings: a wedged cycle stops the pings and systemd restarts the service. SIGTERM
lets the page or batch in hand finish (its writes are recorded), then exits 0; SIGHUP
reloads the config and keeps the old one when the new one is invalid. Leases are renewed
from a heartbeat thread (syncd/leases.py) however long a cycle takes; a shard whose lease was
lost stops at its next page or batch, and the loop tries every lease_s / 3 to take up shards
it does not hold (on PostgreSQL, those another instance gave up, or lost ones back).
"""

from __future__ import annotations

import functools
import signal
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import structlog

from syncd import httpstats
from syncd.config import ConfigInvalid, LoadedConfig, load_config
from syncd.connectors import ConfigError, FatalSyncError, RetriableError
from syncd.health import HealthServer, Metrics, all_ready
from syncd.runtime import Runtime, error_text, instance_id, runtime
from syncd.sdnotify import Notifier, WatchdogPacer
from syncd.store import LeaseLost

log = structlog.get_logger(__name__)
TICK_S = 0.5  # how often the loop wakes to look at signals (the watchdog is paced apart)


class Daemon:
    def __init__(
        self,
        config_path: Path,
        config: LoadedConfig,
        *,
        notifier: Notifier | None = None,
        metrics: Metrics | None = None,
    ):
        self.config_path = config_path
        self.config = config
        self.notifier = notifier or Notifier()
        self.watchdog = WatchdogPacer(self.notifier)
        self.metrics = metrics or Metrics()
        self.server: HealthServer | None = None
        self._stop = False
        self._reload = False
        self._rt: Runtime | None = None
        self._previous: LoadedConfig | None = None  # the config before the last reload
        self.failed: dict[str, str] = {}  # shard -> why it was stopped
        self._current: str | None = None  # the shard whose cycle runs now

    def _on_term(self, signum: int, _frame: FrameType | None) -> None:
        self._stop = True

    def _on_hup(self, signum: int, _frame: FrameType | None) -> None:
        self._reload = True

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, self._on_hup)

    def _ready_check(self) -> tuple[bool, str]:
        def store() -> None:
            if self._rt is None:
                raise RuntimeError("starting")
            self._rt.store.ping()

        def shards() -> None:
            if self.failed:
                raise FatalSyncError(", ".join(sorted(self.failed)))

        return all_ready({"store": store, "shards": shards})()

    def _start_listener(self) -> None:
        listen = self.config.core.metrics.listen
        if listen and self.server is None:
            self.server = HealthServer(
                listen,
                self.metrics,
                ready_check=self._ready_check,
                tick_max_age_s=max(120.0, 4 * TICK_S),
            )
            self.server.start()

    def run(self) -> int:
        self.install_signals()
        self._start_listener()
        unsubscribe = httpstats.subscribe(self.metrics.record_http)
        try:
            while True:
                with ExitStack() as stack:
                    rt = self._open_runtime(stack)
                    self._rt = rt
                    self.failed.update(rt.incomplete)  # not started: `syncd doctor --fix`
                    for shard, why in rt.incomplete.items():
                        rt.store.record_error(shard, f"not set up: {why}", failed=True)
                    # one line per decision is for the journal, not for a person's terminal
                    rt.engine.decision_level = "debug" if sys.stdout.isatty() else "info"
                    rt.engine.stop_requested = functools.partial(self._stop_requested, rt)
                    if self.config.core.daemon.watchdog:
                        rt.engine.heartbeat = self._heartbeat
                    self.failed.update(rt.start_failed)
                    held = rt.acquire()
                    for shard in held:
                        self.metrics.lease_held(shard, True)
                    self.notifier.ready(f"{len(held)} shard(s)")
                    log.info("daemon.ready", shards=held, config=str(self.config_path))
                    self._loop(rt, held)
                    self._rt = None
                if self._stop:
                    log.info("daemon.stopped")
                    return 0
                # leaving the `with` closed everything; start again on the reloaded config
        finally:
            unsubscribe()
            if self.server is not None:
                self.server.stop()

    def _open_runtime(self, stack: ExitStack) -> Runtime:
        """The runtime of the current config. When a reloaded config cannot open (its
        database unreachable), the previous one is restored: a reload never stops the daemon."""
        try:
            rt = stack.enter_context(runtime(self.config, instance=instance_id()))
        except ConfigError as exc:
            if self._previous is None:
                raise
            log.error("config.reload_failed", problems=[str(exc)], kept="previous config")
            self.config, self._previous = self._previous, None
            return stack.enter_context(runtime(self.config, instance=instance_id()))
        self._previous = None
        return rt

    def _stop_requested(self, rt: Runtime) -> bool:
        """Stop the cycle in hand on SIGTERM, or when its shard's lease was lost."""
        return self._stop or (self._current is not None and rt.leases.is_lost(self._current))

    def _heartbeat(self) -> None:
        self.watchdog.pet()
        if self.server is not None:
            self.server.tick()

    def _interval(self, shard: str) -> float:
        own = self.config.shards[shard].core.poll_interval_s
        return own if own is not None else self.config.core.daemon.poll_interval_s

    def _loop(self, rt: Runtime, held: list[str]) -> None:
        next_run = dict.fromkeys(held, 0.0)
        renew_every = self.config.core.state.lease_s / 3
        renew_at = time.monotonic() + renew_every
        watchdog = self.config.core.daemon.watchdog
        while not self._stop:
            if watchdog:
                self.watchdog.pet()
            if self.server is not None:
                self.server.tick()
            if self._reload:
                self._reload = False
                if self._try_reload():
                    return
            if time.monotonic() >= renew_at:
                renew_at = time.monotonic() + renew_every
                self._renew(rt, next_run)
            now = time.monotonic()
            for shard in [s for s, due in next_run.items() if due <= now]:
                if self._stop:
                    break
                self._cycle(rt, shard)
                if shard in self.failed or shard not in rt.leases.held():
                    del next_run[shard]
                else:
                    next_run[shard] = time.monotonic() + self._interval(shard)
            time.sleep(TICK_S)
        self.notifier.stopping()
        log.info("daemon.stopping")

    def _renew(self, rt: Runtime, next_run: dict[str, float]) -> None:
        """Take up shards we don't hold (those whose holder went away, or ours back after a
        lost lease); stop scheduling those whose lease the keeper found lost."""
        held = set(rt.acquire())
        for shard in held - next_run.keys() - self.failed.keys():
            log.info("shard.acquired", shard=shard, epoch=rt.engine.epochs.get(shard))
            self.metrics.lease_held(shard, True)
            next_run[shard] = 0.0
        for shard in next_run.keys() - held:
            del next_run[shard]
            # the keeper logged `shard.lease_lost`; a hand-over (our share shrank) is no loss
            self.metrics.lease_held(shard, False, lost=shard not in rt.handed_over)

    def _cycle(self, rt: Runtime, shard: str) -> None:
        self._current = shard
        try:
            summary = rt.engine.cycle(shard)
            if rt.leases.is_lost(shard):
                raise LeaseLost(f"shard {shard} lease lost during the cycle")
            rt.store.mark_success(shard)
        except FatalSyncError as exc:
            self.failed[shard] = str(exc)
            self.metrics.cycle_failed(shard)
            rt.store.record_error(shard, error_text(exc), failed=True)
            log.error(
                "shard.failed",
                shard=shard,
                error=str(exc),
                fatal=True,
                action="fix the credentials or permissions, then `systemctl restart syncd`",
            )
            return
        except LeaseLost:
            # not failed: the loop takes the shard up again once its lease is reacquired
            rt.leases.drop(shard)
            log.warning("shard.lease_lost", shard=shard, action="stopped; retaken when free")
            self.metrics.lease_held(shard, False)
            return
        except RetriableError as exc:
            self.metrics.cycle_failed(shard)
            rt.store.record_error(shard, error_text(exc), failed=False)
            log.warning(
                "shard.retry_later", shard=shard, error=str(exc), retry_after_s=exc.retry_after_s
            )
            return
        except Exception as exc:  # one shard's bug must not take the others down
            self.metrics.cycle_failed(shard)
            rt.store.record_error(shard, error_text(exc), failed=False)
            log.exception("shard.cycle_failed", shard=shard, error=type(exc).__name__)
            return
        finally:
            self._current = None
        self._record(rt, shard, summary)

    def _record(self, rt: Runtime, shard: str, summary: Any) -> None:
        now = datetime.now(UTC)
        self.metrics.record_cycle(shard, summary, at=now)
        self.metrics.record_outbox(
            shard, rt.store.outbox_counts(shard), rt.store.oldest_pending_age_s(shard)
        )
        self.metrics.set_reviews_open(shard, len(rt.store.held_for_review(shard)))
        cursor = rt.store.cursor(shard)
        if cursor is not None:
            try:
                at = datetime.fromisoformat(cursor.value)
                self.metrics.set_cursor_lag(shard, (now - at).total_seconds())
            except ValueError:
                pass  # not a timestamp cursor (a mailbox's history id)
        quota = rt.connectors[shard].quota_remaining
        ratio = quota() if callable(quota) else None
        if ratio is not None:
            self.metrics.set_quota(shard, ratio)
            log.info("quota.headroom", shard=shard, remaining_ratio=round(ratio, 4))

    def _try_reload(self) -> bool:
        """Reload the config; True when it changed and the runtime must be rebuilt."""
        self.notifier.reloading()
        try:
            new = load_config(self.config_path, check_secrets=True)
        except (ConfigInvalid, ConfigError) as exc:
            problems: Any = getattr(exc, "problems", [str(exc)])
            log.error("config.reload_failed", problems=problems, kept="previous config")
            self.notifier.ready("reload failed; previous config kept")
            return False
        except Exception as exc:  # whatever the file holds, a reload never stops the daemon
            log.error("config.reload_failed", problems=[type(exc).__name__], kept="previous config")
            self.notifier.ready("reload failed; previous config kept")
            return False
        if _enabled(self.config) and not _enabled(new):
            log.warning(
                "config.reload_refused",
                reason="the new config has no enabled shard, so all writing would stop",
                kept="previous config",
                action="fix the file (an empty or truncated file?), then reload again",
            )
            self.notifier.ready("reload refused; previous config kept")
            return False
        for shard in set(self.config.shards) - set(new.shards):
            self.metrics.retire_shard(shard)
        self._previous, self.config = self.config, new
        self.failed.clear()
        log.info("config.reloaded", shards=sorted(new.shards))
        return True  # the caller rebuilds the runtime, then sends READY=1


def _enabled(config: LoadedConfig) -> list[str]:
    return [name for name, shard in config.shards.items() if shard.core.enabled]
