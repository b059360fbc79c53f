"""Metrics and health endpoints: what an admin's monitoring scrapes.

`Metrics` holds every `syncd_*` series in its own registry (never the process-global one, so
tests and several daemons in one process do not collide); the engine and daemon update it.
`HealthServer` is the optional listener from `[metrics] listen`, serving

- `/metrics`  the Prometheus / OpenMetrics exposition,
- `/healthz`  200 while the main loop ticked within `tick_max_age_s` (a liveness probe),
- `/readyz`   200 while the store, config and credentials checks pass, else 503 with a reason.

Labels are bounded on purpose: shard names come from the config and every other label from a
fixed set, never a record id, so the series count cannot grow with the data.
"""

from __future__ import annotations

import contextlib
import errno
import json
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import AF_INET6
from typing import Protocol

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder

from syncd import __version__
from syncd.connectors import ConfigError
from syncd.model import (
    INTERESTED_REPLY,
    NEW_OPPORTUNITY,
    ContactFallback,
    Outcome,
    ReasonKind,
)

log = structlog.get_logger()
# A `_created` twin of every counter doubles the series and means nothing to an alert.
disable_created_metrics()  # type: ignore[no-untyped-call]  # the library leaves it unannotated

WRITE_RESULTS = ("ok", "in_doubt", "retry", "dead", "cancelled")
OUTBOX_STATES = ("pending", "inflight", "in_doubt", "dead")
CYCLE_RESULTS = ("ok", "failed")
DECISION_OUTCOMES = tuple(o.value for o in Outcome)
CONTACT_FALLBACKS = tuple(f.value for f in ContactFallback)
REENGAGEMENT_KINDS = (NEW_OPPORTUNITY, INTERESTED_REPLY)
LOSS_REASONS = tuple(r.value for r in ReasonKind)
NO_RESPONSE = "none"  # the HTTP code label of a call that got no answer (timeout, reset)
# How often the listener thread checks for stop(): bounds the shutdown delay it adds.
STOP_POLL_S = 0.1

ReadyCheck = Callable[[], tuple[bool, str]]


class CycleCounts(Protocol):
    """What `record_cycle` reads from a cycle's summary (`syncd.engine.CycleSummary`)."""

    @property
    def events(self) -> int: ...

    @property
    def decisions(self) -> Mapping[str, int]: ...

    @property
    def writes(self) -> Mapping[str, int]: ...


class Metrics:
    """Every syncd series, updated by the engine (per cycle) and the daemon."""

    def __init__(self, version: str = __version__) -> None:
        self.registry = CollectorRegistry()
        reg = self.registry
        shard = ["shard"]
        self._writes = Counter(
            "syncd_writes", "Outbox writes by result.", [*shard, "result"], registry=reg
        )
        self._outbox = Gauge(
            "syncd_outbox_items", "Outbox entries by state.", [*shard, "state"], registry=reg
        )
        self._oldest_pending = Gauge(
            "syncd_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox entry not yet written (pending, inflight, in doubt).",
            shard,
            registry=reg,
        )
        self._reviews_open = Gauge(
            "syncd_reviews_open",
            "People held until a rep has read their reply (open review holds).",
            shard,
            registry=reg,
        )
        self._cursor_lag = Gauge(
            "syncd_cursor_lag_seconds",
            "How far the committed read cursor trails the present.",
            shard,
            registry=reg,
        )
        self._quota = Gauge(
            "syncd_api_quota_remaining_ratio",
            "Remaining share (0..1) of the vendor's API budget, as last reported.",
            shard,
            registry=reg,
        )
        self._http = Counter(
            "syncd_http_responses",
            f"Vendor API responses by status class (2xx..5xx; {NO_RESPONSE!r}: no answer).",
            [*shard, "vendor", "status_class"],
            registry=reg,
        )
        self._last_cycle = Gauge(
            "syncd_last_successful_cycle_timestamp_seconds",
            "Unix time at which the shard's last cycle completed without error.",
            shard,
            registry=reg,
        )
        self._cycles = Counter(
            "syncd_cycles", "Cycles by result.", [*shard, "result"], registry=reg
        )
        self._events = Counter(
            "syncd_events_read", "Rejection events read from sources.", shard, registry=reg
        )
        self._decisions = Counter(
            "syncd_decisions", "Policy decisions by outcome.", [*shard, "outcome"], registry=reg
        )
        self._contactless = Counter(
            "syncd_losses_without_contacts",
            "Lost deals that named no contact, by the fallback that found someone (or "
            "account_plan: nobody, the owner is asked to find the right person).",
            [*shard, "fallback"],
            registry=reg,
        )
        outcome_labels = [*shard, "kind", "loss_reason", "worth_tier"]
        self._reengaged = Counter(
            "syncd_reengagements",
            "Nurtured prospects who came back (a new open opportunity or an interested reply), "
            "by the original loss reason and worth tier.",
            outcome_labels,
            registry=reg,
        )
        self._pipeline = Counter(
            "syncd_reengaged_pipeline_amount",
            "Amount of the new opportunities of re-engaged prospects (the CRM's currency).",
            outcome_labels,
            registry=reg,
        )
        self._lease_held = Gauge(
            "syncd_shard_lease_held",
            "1 while this instance holds the shard's lease (and works it), else 0.",
            shard,
            registry=reg,
        )
        self._lease_losses = Counter(
            "syncd_lease_losses",
            "Times this instance lost a shard's lease it held (another instance took it over).",
            shard,
            registry=reg,
        )
        ProcessCollector(registry=reg)  # process_* (CPU, memory, open fds, start time)
        PlatformCollector(registry=reg)  # python_info
        info = Info("syncd_build", "The running syncd build.", registry=reg)
        info.info({"version": version, "python": sys.version.split()[0]})
        self._lock = threading.Lock()
        self._shards: set[str] = set()
        self._held: set[str] = set()  # shards whose lease this instance holds
        self._http_codes: dict[str, set[tuple[str, str]]] = {}
        self._outcome_labels: dict[str, set[tuple[str, str, str]]] = {}

    def add_shard(self, shard: str) -> None:
        """Create the shard's counters at zero, so `rate()` and alerts see them from the start."""
        with self._lock:
            if shard in self._shards:
                return
            self._shards.add(shard)
            self._http_codes[shard] = set()
        for result in WRITE_RESULTS:
            self._writes.labels(shard, result)
        for outcome in DECISION_OUTCOMES:
            self._decisions.labels(shard, outcome)
        for fallback in CONTACT_FALLBACKS:
            self._contactless.labels(shard, fallback)
        for result in CYCLE_RESULTS:
            self._cycles.labels(shard, result)
        self._events.labels(shard)
        # Outcomes at zero for every kind and reason (worth tiers come from the config and
        # appear with the first outcome), so `increase()` sees them from the start.
        for kind in REENGAGEMENT_KINDS:
            for reason in LOSS_REASONS:
                self.record_reengagements(shard, (kind, reason, "unknown"), 0, 0.0)
        self._lease_losses.labels(shard)

    def lease_held(self, shard: str, held: bool, *, lost: bool = True) -> None:
        """Whether this instance holds the shard's lease; losing a held one is counted,
        handing it over (`lost=False`: the fair share shrank) is not."""
        self.add_shard(shard)
        with self._lock:
            lost = lost and not held and shard in self._held
            (self._held.add if held else self._held.discard)(shard)
        if lost:
            self._lease_losses.labels(shard).inc()
        self._lease_held.labels(shard).set(1 if held else 0)

    def retire_shard(self, shard: str) -> None:
        """Drop every series of a shard removed from the config (after a reload)."""
        with self._lock:
            if shard not in self._shards:
                return
            self._shards.discard(shard)
            self._held.discard(shard)
            codes = self._http_codes.pop(shard, set())
            outcomes = self._outcome_labels.pop(shard, set())
        for metric, values in (
            (self._writes, WRITE_RESULTS),
            (self._outbox, OUTBOX_STATES),
            (self._decisions, DECISION_OUTCOMES),
            (self._contactless, CONTACT_FALLBACKS),
            (self._cycles, CYCLE_RESULTS),
        ):
            for value in values:
                _remove(metric, shard, value)
        for vendor, status_class in codes:
            _remove(self._http, shard, vendor, status_class)
        for labels in outcomes:
            _remove(self._reengaged, shard, *labels)
            _remove(self._pipeline, shard, *labels)
        for single in (
            self._reviews_open,
            self._oldest_pending,
            self._cursor_lag,
            self._quota,
            self._last_cycle,
            self._events,
            self._lease_held,
            self._lease_losses,
        ):
            _remove(single, shard)

    def record_cycle(self, shard: str, summary: CycleCounts, *, at: datetime) -> None:
        """Everything a completed cycle counted: events, decisions, write results, success.

        Unlike the single-value methods, a label value outside the fixed sets is logged and
        skipped here: a metric must never fail the cycle it describes.
        """
        self.record_events(shard, summary.events)
        for outcome, n in summary.decisions.items():
            if outcome in DECISION_OUTCOMES:
                self._decisions.labels(shard, outcome).inc(n)
            else:
                log.warning("metrics.unknown_label", metric="decisions", value=outcome)
        for fallback, n in getattr(summary, "contactless", {}).items():
            if fallback in CONTACT_FALLBACKS:
                self._contactless.labels(shard, fallback).inc(n)
            else:
                log.warning("metrics.unknown_label", metric="contactless", value=fallback)
        pipeline: Mapping[tuple[str, str, str], float] = getattr(summary, "pipeline", {})
        for labels, n in getattr(summary, "reengaged", {}).items():
            self.record_reengagements(shard, labels, n, pipeline.get(labels, 0.0))
        for result, n in summary.writes.items():
            if result in WRITE_RESULTS:
                self._writes.labels(shard, result).inc(n)
            else:
                log.warning("metrics.unknown_label", metric="writes", value=result)
        self.cycle_succeeded(shard, at)

    def record_reengagements(
        self, shard: str, labels: tuple[str, str, str], count: int, amount: float
    ) -> None:
        """Outcomes by (kind, loss reason, worth tier): each from a fixed or configured set."""
        with self._lock:
            self._outcome_labels.setdefault(shard, set()).add(labels)
        self._reengaged.labels(shard, *labels).inc(count)
        self._pipeline.labels(shard, *labels).inc(amount)

    def record_outbox(
        self, shard: str, counts: Mapping[str, int], oldest_open_age_s: float | None
    ) -> None:
        """The outbox as `Store.outbox_counts` / `Store.oldest_pending_age_s` report it."""
        self.set_outbox(
            shard,
            pending=counts.get("pending", 0),
            inflight=counts.get("inflight", 0),
            in_doubt=counts.get("in_doubt", 0),
            dead=counts.get("dead", 0),
            oldest_pending_age_s=oldest_open_age_s or 0.0,
        )

    def record_write(self, shard: str, result: str, n: int = 1) -> None:
        """Count outbox writes that ended in `result`: ok, in_doubt, retry or dead."""
        if result not in WRITE_RESULTS:
            raise ValueError(f"write result must be one of {WRITE_RESULTS}, not {result!r}")
        self.add_shard(shard)
        self._writes.labels(shard, result).inc(n)

    def set_outbox(
        self,
        shard: str,
        *,
        pending: int,
        inflight: int,
        in_doubt: int,
        oldest_pending_age_s: float,
        dead: int | None = None,
    ) -> None:
        """The outbox as the store reports it at the end of a cycle."""
        self.add_shard(shard)
        counts = {"pending": pending, "inflight": inflight, "in_doubt": in_doubt, "dead": dead}
        for state, count in counts.items():
            if count is not None:
                self._outbox.labels(shard, state).set(count)
        self._oldest_pending.labels(shard).set(max(0.0, oldest_pending_age_s))

    def set_reviews_open(self, shard: str, count: int) -> None:
        """How many people the shard holds for a rep's review (`Store.held_for_review`)."""
        self.add_shard(shard)
        self._reviews_open.labels(shard).set(count)

    def set_cursor_lag(self, shard: str, seconds: float | None) -> None:
        """How old the newest committed record is; None (no cursor yet) removes the series."""
        self.add_shard(shard)
        if seconds is None:
            _remove(self._cursor_lag, shard)
        else:
            self._cursor_lag.labels(shard).set(max(0.0, seconds))

    def set_quota(self, shard: str, ratio: float | None) -> None:
        """Remaining API budget 0..1; None (the vendor does not say) removes the series."""
        self.add_shard(shard)
        if ratio is None:
            _remove(self._quota, shard)
        else:
            self._quota.labels(shard).set(min(1.0, max(0.0, ratio)))

    def record_http(self, shard: str, vendor: str, status: int | None) -> None:
        """Count one vendor API response by status class; None for no response at all.
        Calls made outside any shard (none in the daemon) are not counted."""
        if not shard:
            return
        self.add_shard(shard)
        ok = status is not None and 100 <= status <= 599
        status_class = f"{status // 100}xx" if ok and status is not None else NO_RESPONSE
        with self._lock:
            self._http_codes.setdefault(shard, set()).add((vendor, status_class))
        self._http.labels(shard, vendor, status_class).inc()

    def cycle_succeeded(self, shard: str, at: datetime) -> None:
        """A cycle of the shard completed without error at `at` (timezone-aware)."""
        if at.tzinfo is None:
            raise ValueError("cycle time must be timezone-aware")
        self.add_shard(shard)
        self._cycles.labels(shard, "ok").inc()
        self._last_cycle.labels(shard).set(at.timestamp())

    def cycle_failed(self, shard: str) -> None:
        """A cycle of the shard ended in an error (it is logged as `shard.failed`)."""
        self.add_shard(shard)
        self._cycles.labels(shard, "failed").inc()

    def record_events(self, shard: str, n: int) -> None:
        """Count rejection events read from the shard's source."""
        self.add_shard(shard)
        self._events.labels(shard).inc(n)

    def record_decision(self, shard: str, outcome: str) -> None:
        """Count one policy decision by its outcome (a `syncd.model.Outcome` value)."""
        if outcome not in DECISION_OUTCOMES:
            raise ValueError(f"outcome must be one of {DECISION_OUTCOMES}, not {outcome!r}")
        self.add_shard(shard)
        self._decisions.labels(shard, str(outcome)).inc()


def _remove(metric: Counter | Gauge, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # never set: nothing to drop
        metric.remove(*labels)


def all_ready(checks: Mapping[str, Callable[[], object]]) -> ReadyCheck:
    """One ready check from named parts (`store`, `config`, `credentials`, …).

    A part fails by returning False or raising; the reason names the part and the exception
    type only, because an exception message may carry a connection URL or a vendor body.
    """

    def check() -> tuple[bool, str]:
        for name, part in checks.items():
            try:
                ok = part()
            except Exception as exc:  # a probe must answer, whatever the part raised
                return False, f"{name}: {type(exc).__name__}"
            if ok is False:
                return False, f"{name}: not ready"
        return True, ""

    return check


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:9464`) as a (host, port) pair."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"metrics.listen: must be HOST:PORT, e.g. 127.0.0.1:9464, not {value!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


class HealthServer:
    """The /metrics, /healthz and /readyz listener, served from a background thread.

    `tick()` must be called from the main loop (the same place that pings the systemd
    watchdog), so /healthz reports the loop's liveness rather than this thread's. The ready
    check runs on the listener's thread for each /readyz request: keep it cheap and
    thread-safe (a `SELECT 1`, not a vendor call).
    """

    def __init__(
        self,
        listen: str,
        metrics: Metrics,
        *,
        ready_check: ReadyCheck,
        tick_max_age_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._host, self._port = parse_listen(listen)
        self.metrics = metrics
        self.ready_check = ready_check
        self.tick_max_age_s = tick_max_age_s
        self._clock = clock
        self._last_tick = clock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); the real port when the config asked for port 0."""
        if self._httpd is None:
            return self._host, self._port
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Bind and serve; a bind failure is a ConfigError naming `metrics.listen`."""
        if self._httpd is not None:
            return
        server_class = _IPv6Server if ":" in self._host else _IPv4Server
        try:
            httpd = server_class((self._host, self._port), _handler_for(self))
        except OSError as exc:
            hint = " (ports below 1024 need a privilege syncd runs without)"
            raise ConfigError(
                f"metrics.listen: cannot listen on {self._host}:{self._port}: "
                f"{exc.strerror or exc}{hint if exc.errno == errno.EACCES else ''}"
            ) from exc
        self._httpd = httpd
        self._last_tick = self._clock()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": STOP_POLL_S},
            name="syncd-health",
            daemon=True,
        )
        self._thread.start()
        host, port = self.address
        log.info("health.listening", host=host, port=port)

    def tick(self) -> None:
        """The main loop is alive."""
        self._last_tick = self._clock()

    def tick_age_s(self) -> float:
        return self._clock() - self._last_tick

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def healthz(self) -> tuple[int, dict[str, object]]:
        age = round(self.tick_age_s(), 3)
        body: dict[str, object] = {"tick_age_s": age, "max_age_s": self.tick_max_age_s}
        if age <= self.tick_max_age_s:
            return HTTPStatus.OK, {"status": "ok", **body}
        return HTTPStatus.SERVICE_UNAVAILABLE, {"status": "stale", **body}

    def readyz(self) -> tuple[int, dict[str, object]]:
        try:
            ok, reason = self.ready_check()
        except Exception as exc:  # a probe must answer, whatever the check raised
            ok, reason = False, f"ready check raised {type(exc).__name__}"
        if ok:
            return HTTPStatus.OK, {"status": "ready"}
        return HTTPStatus.SERVICE_UNAVAILABLE, {"status": "not_ready", "reason": reason[:200]}


class _IPv4Server(ThreadingHTTPServer):
    daemon_threads = True


class _IPv6Server(_IPv4Server):
    address_family = AF_INET6


def landing_page() -> bytes:
    """What a browser pointed at the listener sees: the build and the endpoints."""
    return (
        "<!doctype html><html><head><title>syncd</title></head><body>"
        f"<h1>syncd {__version__}</h1><ul>"
        '<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>'
        '<li><a href="/healthz">/healthz</a>: liveness (the main loop ticks)</li>'
        '<li><a href="/readyz">/readyz</a>: readiness (store and shards)</li>'
        "</ul></body></html>"
    ).encode()


def _handler_for(server: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "syncd"
        sys_version = ""
        timeout = 10  # a client that stalls mid-request does not hold a thread for ever

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._reply(HTTPStatus.OK, landing_page(), "text/html; charset=utf-8")
            elif path == "/metrics":
                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                self._reply(HTTPStatus.OK, encoder(server.metrics.registry), content_type)
            elif path == "/healthz":
                self._reply_json(*server.healthz())
            elif path == "/readyz":
                self._reply_json(*server.readyz())
            else:
                self._reply_json(HTTPStatus.NOT_FOUND, {"status": "not_found"})

        def _reply_json(self, status: int, body: dict[str, object]) -> None:
            self._reply(status, json.dumps(body).encode(), "application/json")

        def _reply(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per scrape would drown the journal; failures show in the probe

    return Handler
