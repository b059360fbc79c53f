"""`syncd run`: the long-running loop, its signals and its conversation with systemd.

Each shard runs a cycle on its own poll interval, all from the main thread, which also sends
the watchdog pings: a wedged cycle stops the pings and systemd restarts the service. SIGTERM
lets the page or batch in hand finish (its writes are recorded), then exits 0; SIGHUP
reloads the config and keeps the old one when the new one is invalid.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import structlog

from syncd.config import ConfigInvalid, LoadedConfig, load_config
from syncd.connectors import ConfigError, FatalSyncError, RetriableError
from syncd.runtime import Runtime, runtime
from syncd.sdnotify import Notifier
from syncd.store import LeaseLost

log = structlog.get_logger(__name__)
TICK_S = 0.5  # how often the loop wakes to ping the watchdog and look at signals


class Daemon:
    def __init__(
        self,
        config_path: Path,
        config: LoadedConfig,
        *,
        notifier: Notifier | None = None,
        on_tick: Callable[[Runtime], None] | None = None,
    ):
        self.config_path = config_path
        self.config = config
        self.notifier = notifier or Notifier()
        self.on_tick = on_tick
        self._stop = False
        self._reload = False
        self.failed: dict[str, str] = {}  # shard -> why it was stopped

    def _on_term(self, signum: int, _frame: FrameType | None) -> None:
        self._stop = True

    def _on_hup(self, signum: int, _frame: FrameType | None) -> None:
        self._reload = True

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, self._on_hup)

    def run(self) -> int:
        self.install_signals()
        while True:
            with runtime(self.config) as rt:
                rt.engine.stop_requested = lambda: self._stop
                held = rt.acquire()
                self.notifier.ready(f"{len(held)} shard(s)")
                log.info("daemon.ready", shards=held, config=str(self.config_path))
                self._loop(rt)
            if self._stop:
                log.info("daemon.stopped")
                return 0
            # leaving the `with` closed everything; start again on the reloaded config

    def _interval(self, shard: str) -> float:
        own = self.config.shards[shard].core.poll_interval_s
        return own if own is not None else self.config.core.daemon.poll_interval_s

    def _loop(self, rt: Runtime) -> None:
        next_run = dict.fromkeys(rt.engine.epochs, 0.0)
        watchdog = self.config.core.daemon.watchdog
        while not self._stop:
            if watchdog:
                self.notifier.watchdog()
            if self.on_tick is not None:
                self.on_tick(rt)
            if self._reload:
                self._reload = False
                if self._try_reload():
                    return
            now = time.monotonic()
            for shard in [s for s, due in next_run.items() if due <= now]:
                if self._stop:
                    break
                self._cycle(rt, shard)
                if shard in self.failed:
                    del next_run[shard]
                else:
                    next_run[shard] = time.monotonic() + self._interval(shard)
            time.sleep(TICK_S)
        self.notifier.stopping()
        log.info("daemon.stopping")

    def _cycle(self, rt: Runtime, shard: str) -> None:
        try:
            rt.engine.cycle(shard)
            rt.store.mark_success(shard)
        except FatalSyncError as exc:
            self.failed[shard] = str(exc)
            log.error(
                "shard.failed",
                shard=shard,
                error=str(exc),
                fatal=True,
                action="fix the credentials or permissions, then `systemctl reload syncd`",
            )
        except LeaseLost:
            self.failed[shard] = "lease lost"
            log.warning("shard.lease_lost", shard=shard)
        except RetriableError as exc:
            log.warning(
                "shard.retry_later", shard=shard, error=str(exc), retry_after_s=exc.retry_after_s
            )
        except Exception as exc:  # one shard's bug must not take the others down
            log.exception("shard.cycle_failed", shard=shard, error=type(exc).__name__)

    def _try_reload(self) -> bool:
        """Reload the config; True when it changed and the runtime must be rebuilt."""
        self.notifier.reloading()
        try:
            new = load_config(self.config_path)
        except (ConfigInvalid, ConfigError) as exc:
            problems: Any = getattr(exc, "problems", [str(exc)])
            log.error("config.reload_failed", problems=problems, kept="previous config")
            self.notifier.ready("reload failed; previous config kept")
            return False
        self.config = new
        self.failed.clear()
        log.info("config.reloaded", shards=sorted(new.shards))
        return True  # the caller rebuilds the runtime, then sends READY=1
