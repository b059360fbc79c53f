"""The metrics and health listener, scraped over real HTTP as Prometheus and probes would."""

from __future__ import annotations

import json
import platform
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from syncd import __version__
from syncd.connectors import ConfigError
from syncd.engine import CycleSummary
from syncd.health import HealthServer, Metrics, all_ready, parse_listen


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def always_ready() -> tuple[bool, str]:
    return True, ""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def server(metrics: Metrics, clock: FakeClock) -> Iterator[HealthServer]:
    srv = HealthServer(
        "127.0.0.1:0", metrics, ready_check=always_ready, tick_max_age_s=60, clock=clock
    )
    srv.start()
    yield srv
    srv.stop()


def get(server: HealthServer, path: str, accept: str = "") -> tuple[int, str, str]:
    host, port = server.address
    request = urllib.request.Request(f"http://{host}:{port}{path}", headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310 (http to 127.0.0.1)
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def scrape(server: HealthServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, _, text = get(server, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_after_a_cycle_are_scraped_with_their_values(
    server: HealthServer, metrics: Metrics
) -> None:
    """What the engine reports for a cycle is what Prometheus reads, series by series."""
    shard = "sf_prod"
    metrics.record_events(shard, 120)
    for outcome in ["nurture"] * 7 + ["not_a_fit"] * 2 + ["opted_out"]:
        metrics.record_decision(shard, outcome)
    metrics.record_write(shard, "ok", 5)
    metrics.record_write(shard, "in_doubt")
    metrics.record_write(shard, "dead")
    metrics.set_outbox(shard, pending=12, inflight=3, in_doubt=1, oldest_pending_age_s=42.5, dead=2)
    metrics.set_cursor_lag(shard, 95.0)
    metrics.set_quota(shard, 0.83)
    for status in (200, 201, 429, 503, None):
        metrics.record_http(shard, "salesforce", status)
    metrics.cycle_succeeded(shard, datetime(2024, 5, 1, 12, 0, tzinfo=UTC))

    s = scrape(server)
    lbl = (("shard", shard),)
    assert s[("syncd_events_read_total", lbl)] == 120
    assert s[("syncd_decisions_total", (("outcome", "nurture"), *lbl))] == 7
    assert s[("syncd_decisions_total", (("outcome", "not_a_fit"), *lbl))] == 2
    assert s[("syncd_decisions_total", (("outcome", "ignored"), *lbl))] == 0
    assert s[("syncd_writes_total", (("result", "ok"), *lbl))] == 5
    assert s[("syncd_writes_total", (("result", "in_doubt"), *lbl))] == 1
    assert s[("syncd_writes_total", (("result", "dead"), *lbl))] == 1
    assert s[("syncd_writes_total", (("result", "retry"), *lbl))] == 0
    assert s[("syncd_outbox_items", (*lbl, ("state", "pending")))] == 12
    assert s[("syncd_outbox_items", (*lbl, ("state", "inflight")))] == 3
    assert s[("syncd_outbox_items", (*lbl, ("state", "in_doubt")))] == 1
    assert s[("syncd_outbox_items", (*lbl, ("state", "dead")))] == 2
    assert s[("syncd_outbox_oldest_pending_age_seconds", lbl)] == 42.5
    assert s[("syncd_cursor_lag_seconds", lbl)] == 95.0
    assert s[("syncd_api_quota_remaining_ratio", lbl)] == 0.83
    http = (("vendor", "salesforce"),)
    assert s[("syncd_http_responses_total", (*lbl, ("status_class", "2xx"), *http))] == 2
    assert s[("syncd_http_responses_total", (*lbl, ("status_class", "4xx"), *http))] == 1
    assert s[("syncd_http_responses_total", (*lbl, ("status_class", "5xx"), *http))] == 1
    assert s[("syncd_http_responses_total", (*lbl, ("status_class", "none"), *http))] == 1
    assert s[("syncd_cycles_total", (("result", "ok"), *lbl))] == 1
    assert s[("syncd_last_successful_cycle_timestamp_seconds", lbl)] == 1714564800.0
    info = [k for k in s if k[0] == "syncd_build_info"]
    assert len(info) == 1 and ("version", __version__) in info[0][1]
    assert ("python", platform.python_version()) in info[0][1]


def test_every_series_is_prefixed_and_bounded(server: HealthServer, metrics: Metrics) -> None:
    """syncd's own series are prefixed syncd_ (beside the standard process_* and python_info),
    none has a `_created` twin, and no label value comes from record data."""
    for i in range(50):
        metrics.record_http("hs", "hubspot", 200 + (i % 2))
        metrics.record_http("hs", "hubspot", 1000 + i)  # nonsense collapses to one value
    names = {name for name, _ in scrape(server)}
    assert names and all(name.startswith(("syncd_", "process_", "python_")) for name in names)
    assert any(name.startswith("process_") for name in names)
    assert not any(name.endswith("_created") for name in names)
    codes = {dict(labels).get("status_class") for name, labels in scrape(server) if "http" in name}
    assert codes == {"2xx", "none"}


def test_unknown_label_values_are_refused(metrics: Metrics) -> None:
    """A write result or outcome outside the fixed sets is a programming error, not a series."""
    with pytest.raises(ValueError):
        metrics.record_write("sf", "0015g00000AbCdE")
    with pytest.raises(ValueError):
        metrics.record_decision("sf", "maybe")


def test_retired_shard_disappears_from_the_scrape(server: HealthServer, metrics: Metrics) -> None:
    """After a reload drops a shard, none of its series linger to trigger stale alerts."""
    metrics.set_cursor_lag("old", 10)
    metrics.record_http("old", "hubspot", 500)
    metrics.set_outbox("old", pending=1, inflight=0, in_doubt=0, oldest_pending_age_s=5)
    metrics.record_write("kept", "ok")
    metrics.retire_shard("old")
    shards = {dict(labels).get("shard") for _, labels in scrape(server)}
    assert "old" not in shards
    assert "kept" in shards


def test_unknown_quota_removes_the_series(server: HealthServer, metrics: Metrics) -> None:
    """When a vendor stops reporting its quota, the last value is not shown as current."""
    metrics.set_quota("gm", 0.5)
    metrics.set_quota("gm", None)
    assert not [k for k in scrape(server) if k[0] == "syncd_api_quota_remaining_ratio"]


def test_openmetrics_is_negotiated(server: HealthServer) -> None:
    """A scraper asking for OpenMetrics gets it, with its end-of-exposition marker."""
    status, content_type, text = get(server, "/metrics", "application/openmetrics-text")
    assert status == 200
    assert content_type.startswith("application/openmetrics-text")
    assert text.rstrip().endswith("# EOF")


def test_healthz_turns_503_when_the_loop_stops_ticking(
    server: HealthServer, clock: FakeClock
) -> None:
    """A loop that has not ticked within the threshold is reported unhealthy."""
    clock.now += 30
    status, _, body = get(server, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    clock.now += 31
    status, _, body = get(server, "/healthz")
    assert status == 503 and json.loads(body) == {
        "status": "stale",
        "tick_age_s": 61.0,
        "max_age_s": 60,
    }
    server.tick()
    assert get(server, "/healthz")[0] == 200


def test_readyz_fails_with_a_reason_when_the_store_is_unreachable(metrics: Metrics) -> None:
    """An unreachable store makes /readyz answer 503 naming the store, not leaking details."""

    def store_ping() -> None:
        raise ConnectionRefusedError("postgresql://syncd:hunter2@db/syncd refused")

    check = all_ready({"config": lambda: True, "store": store_ping, "credentials": lambda: True})
    srv = HealthServer("127.0.0.1:0", metrics, ready_check=check)
    srv.start()
    try:
        status, content_type, body = get(srv, "/readyz")
    finally:
        srv.stop()
    assert status == 503
    assert content_type == "application/json"
    assert json.loads(body) == {"status": "not_ready", "reason": "store: ConnectionRefusedError"}
    assert "hunter2" not in body


def test_readyz_is_200_when_all_parts_pass(server: HealthServer) -> None:
    """With every check passing the probe reports ready."""
    status, _, body = get(server, "/readyz")
    assert status == 200 and json.loads(body) == {"status": "ready"}


def test_a_part_returning_false_is_named() -> None:
    """A check part that answers False (rather than raising) is reported by name."""
    check = all_ready({"store": lambda: None, "credentials": lambda: False})
    assert check() == (False, "credentials: not ready")


def test_a_raising_ready_check_still_answers(metrics: Metrics) -> None:
    """Even a ready check that raises yields a 503 answer rather than a dropped connection."""

    def broken() -> tuple[bool, str]:
        raise RuntimeError("boom")

    srv = HealthServer("127.0.0.1:0", metrics, ready_check=broken)
    srv.start()
    try:
        status, _, body = get(srv, "/readyz")
    finally:
        srv.stop()
    assert status == 503 and json.loads(body)["reason"] == "ready check raised RuntimeError"


def test_unknown_path_is_404(server: HealthServer) -> None:
    """Anything but the three endpoints is not found."""
    assert get(server, "/admin")[0] == 404


def test_busy_port_is_a_config_error(server: HealthServer, metrics: Metrics) -> None:
    """Listening on a port already taken fails with a message naming metrics.listen."""
    host, port = server.address
    other = HealthServer(f"{host}:{port}", metrics, ready_check=always_ready)
    with pytest.raises(ConfigError, match=r"metrics\.listen: cannot listen on .*in use"):
        other.start()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:9464", ("127.0.0.1", 9464)), ("[::1]:9464", ("::1", 9464))],
)
def test_listen_values_parse(value: str, expected: tuple[str, int]) -> None:
    """IPv4 and bracketed IPv6 listen addresses are understood."""
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["9464", "localhost:", "127.0.0.1:99999", ":9464"])
def test_bad_listen_values_are_config_errors(value: str) -> None:
    """A malformed listen address is reported as a config problem."""
    with pytest.raises(ConfigError):
        parse_listen(value)


def test_a_cycle_summary_and_the_outbox_feed_the_metrics(
    server: HealthServer, metrics: Metrics
) -> None:
    """The engine's own cycle summary and the store's outbox counts show up as series."""
    summary = CycleSummary("hs_main", events=40)
    summary.decisions.update({"nurture": 30, "opted_out": 2})
    summary.writes.update({"ok": 25, "retry": 3})
    metrics.record_cycle("hs_main", summary, at=datetime(2024, 5, 1, tzinfo=UTC))
    metrics.record_outbox("hs_main", {"pending": 4, "done": 900, "dead": 1}, 30.0)

    s = scrape(server)
    lbl = (("shard", "hs_main"),)
    assert s[("syncd_events_read_total", lbl)] == 40
    assert s[("syncd_decisions_total", (("outcome", "nurture"), *lbl))] == 30
    assert s[("syncd_decisions_total", (("outcome", "opted_out"), *lbl))] == 2
    assert s[("syncd_writes_total", (("result", "ok"), *lbl))] == 25
    assert s[("syncd_writes_total", (("result", "retry"), *lbl))] == 3
    assert s[("syncd_cycles_total", (("result", "ok"), *lbl))] == 1
    assert s[("syncd_last_successful_cycle_timestamp_seconds", lbl)] == 1714521600.0
    assert s[("syncd_outbox_items", (*lbl, ("state", "pending")))] == 4
    assert s[("syncd_outbox_items", (*lbl, ("state", "inflight")))] == 0
    assert s[("syncd_outbox_items", (*lbl, ("state", "dead")))] == 1
    assert s[("syncd_outbox_oldest_pending_age_seconds", lbl)] == 30.0


def test_an_unexpected_summary_label_is_skipped_not_raised(metrics: Metrics) -> None:
    """A write result the metrics do not know cannot fail the cycle being recorded."""
    summary = CycleSummary("sf", events=1)
    summary.writes.update({"ok": 1, "exploded": 1})
    metrics.record_cycle("sf", summary, at=datetime(2024, 5, 1, tzinfo=UTC))
    values = {
        sample.labels.get("result"): sample.value
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        if family.name == "syncd_writes"
        for sample in family.samples
        if sample.name == "syncd_writes_total"
    }
    assert values == {"ok": 1, "in_doubt": 0, "retry": 0, "dead": 0, "cancelled": 0}


def test_landing_page_links_every_endpoint(server: HealthServer) -> None:
    """A browser pointed at the listener sees the version and links to the endpoints."""
    status, content_type, body = get(server, "/")
    assert status == 200 and content_type.startswith("text/html")
    assert __version__ in body
    assert all(f'href="{p}"' in body for p in ("/metrics", "/healthz", "/readyz"))


def test_re_engagements_and_their_pipeline_are_counted_by_bounded_labels(
    server: HealthServer, metrics: Metrics
) -> None:
    """Outcomes and new pipeline show up by kind, original loss reason and worth tier, and go
    with the shard when it is retired."""
    summary = CycleSummary("sf", events=0)
    labels = ("new_opportunity", "competitor", ">=25000")
    summary.reengaged[labels] += 2
    summary.pipeline[labels] = 130_000.0
    metrics.record_cycle("sf", summary, at=datetime(2024, 5, 1, tzinfo=UTC))
    s = scrape(server)
    lbl = (
        ("kind", "new_opportunity"),
        ("loss_reason", "competitor"),
        ("shard", "sf"),
        ("worth_tier", ">=25000"),
    )
    assert s[("syncd_reengagements_total", lbl)] == 2
    assert s[("syncd_reengaged_pipeline_amount_total", lbl)] == 130_000.0
    metrics.retire_shard("sf")
    assert not any(name.startswith("syncd_reeng") for name, _ in scrape(server))


def test_lease_ownership_and_losses_are_scraped(server: HealthServer, metrics: Metrics) -> None:
    """An admin sees which instance works a shard, and each time it lost the shard."""
    metrics.lease_held("sf", True)
    metrics.lease_held("sf", True)  # a renewal is not a change
    lbl = (("shard", "sf"),)
    s = scrape(server)
    assert s[("syncd_shard_lease_held", lbl)] == 1
    assert s[("syncd_lease_losses_total", lbl)] == 0
    metrics.lease_held("sf", False)
    metrics.lease_held("sf", False)  # still lost: counted once
    s = scrape(server)
    assert s[("syncd_shard_lease_held", lbl)] == 0
    assert s[("syncd_lease_losses_total", lbl)] == 1
    metrics.retire_shard("sf")
    assert not [k for k in scrape(server) if k[0].startswith("syncd_") and lbl[0] in k[1]]
