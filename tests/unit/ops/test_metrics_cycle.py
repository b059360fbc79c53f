"""Metrics and readiness fed by a real cycle against the file-backed fake connector."""

from __future__ import annotations

import dataclasses
import json
import shutil
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from syncd.config import load_config
from syncd.health import HealthServer, Metrics, all_ready
from syncd.model import ContactFallback
from syncd.runtime import runtime
from syncd.store import Store
from tests.conftest import fake_config, rejection


def _config(tmp_path: Path) -> Path:
    # six prospects who fit, one company too small for the profile
    (tmp_path / "state").mkdir()
    return fake_config(
        tmp_path,
        [rejection(n) for n in range(6)] + [rejection(50, employees=3)],
        extra="[policy.icp]\nmin_employees = 10",
        state_url=f"sqlite:///{tmp_path / 'state' / 'syncd.db'}",
    )


def _get(server: HealthServer, path: str) -> tuple[int, str]:
    host, port = server.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_metrics_after_a_cycle_match_what_was_written(tmp_path: Path) -> None:
    """After one cycle, /metrics reports the events, decisions and writes the cycle made."""
    config = load_config(_config(tmp_path))
    metrics = Metrics()
    with runtime(config) as rt:
        summaries = rt.once()
        for shard, summary in summaries.items():
            metrics.record_cycle(shard, summary, at=datetime.now(UTC))
            metrics.record_outbox(
                shard, rt.store.outbox_counts(shard), rt.store.oldest_pending_age_s(shard)
            )
        server = HealthServer(
            "127.0.0.1:0", metrics, ready_check=all_ready({"store": rt.store.ping})
        )
        server.start()
        try:
            status, text = _get(server, "/metrics")
            ready_status, _ = _get(server, "/readyz")
        finally:
            server.stop()
    assert status == 200 and ready_status == 200
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    crm = (("shard", "crm"),)
    assert samples[("syncd_events_read_total", crm)] == 7
    assert samples[("syncd_decisions_total", (("outcome", "nurture"), *crm))] == 6
    assert samples[("syncd_decisions_total", (("outcome", "not_a_fit"), *crm))] == 1
    assert samples[("syncd_writes_total", (("result", "ok"), *crm))] == 6
    assert samples[("syncd_writes_total", (("result", "dead"), *crm))] == 0
    assert samples[("syncd_outbox_items", (*crm, ("state", "pending")))] == 0
    assert samples[("syncd_cycles_total", (("result", "ok"), *crm))] == 1


def test_readyz_fails_once_the_state_database_is_unreachable(tmp_path: Path) -> None:
    """When the state directory disappears, /readyz turns 503 and names the store."""
    config = load_config(_config(tmp_path))
    store = Store.open(config.core.state.url)
    server = HealthServer("127.0.0.1:0", Metrics(), ready_check=all_ready({"store": store.ping}))
    server.start()
    try:
        assert _get(server, "/readyz")[0] == 200
        shutil.rmtree(tmp_path / "state")
        store.engine.dispose()  # drop pooled connections: the next check opens the file anew
        status, body = _get(server, "/readyz")
    finally:
        server.stop()
        store.close()
    assert status == 503
    assert json.loads(body) == {"status": "not_ready", "reason": "store: OperationalError"}


def test_losses_without_contacts_are_counted_on_metrics(tmp_path: Path) -> None:
    """A lost deal that named no contact is counted by the fallback that found someone."""
    (tmp_path / "state").mkdir()
    events = [
        dataclasses.replace(rejection(1), contact_fallback=ContactFallback.PRIMARY_CONTACT),
        rejection(2),
    ]
    config = load_config(
        fake_config(tmp_path, events, state_url=f"sqlite:///{tmp_path / 'state' / 'syncd.db'}")
    )
    metrics = Metrics()
    metrics.add_shard("crm")
    with runtime(config) as rt:
        for shard, summary in rt.once().items():
            metrics.record_cycle(shard, summary, at=datetime.now(UTC))
    text = generate_latest(metrics.registry).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    name = "syncd_losses_without_contacts_total"
    assert samples[(name, (("fallback", "primary_contact"), ("shard", "crm")))] == 1
    assert samples[(name, (("fallback", "account_plan"), ("shard", "crm")))] == 0
