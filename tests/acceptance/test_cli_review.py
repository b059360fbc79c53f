"""What an admin sees of replies held for review: `plan`, `status` and /metrics."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from syncd.cli import main
from syncd.config import load_config
from syncd.daemon import Daemon
from syncd.model import Intent, ReplyInfo, SourceKind
from syncd.runtime import runtime
from syncd.store.packed import unpack
from syncd.testing.plugin import complete_task
from tests.conftest import fake_config, rejection


def _unsure_reply(n: int) -> object:
    event = rejection(n)
    at = event.occurred_at + timedelta(hours=2)
    return replace(
        event,
        event_id=f"gm:msg:{n}",
        source=SourceKind.REPLY,
        occurred_at=at,
        position=at.isoformat(),
        reply=ReplyInfo(
            Intent.NOT_INTERESTED,
            f"<m{n}@example.com>",
            f"T{n}",
            confidence=0.3,
            review=True,
            review_reasons=("no_cue",),
            text="Brauche ich nicht wirklich, oder?",
        ),
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    events = [rejection(n) for n in range(3)] + [_unsure_reply(1), _unsure_reply(2)]
    return fake_config(tmp_path, events)  # type: ignore[arg-type]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_plan_and_status_list_the_people_held_for_review(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan` shows who a run would hold, `status` who is held now: a count and the ids."""
    code, out = _run(capsys, "--config", str(config), "plan", "--json")
    assert code == 0
    held = json.loads(out)["shards"]["crm"]["held_for_review"]
    assert held == {"count": 2, "prospects": ["crm:contact:C0001", "crm:contact:C0002"]}
    code, out = _run(capsys, "--config", str(config), "plan")
    assert "held for review: 2: crm:contact:C0001, crm:contact:C0002" in out
    _run(capsys, "--config", str(config), "once")
    code, out = _run(capsys, "--config", str(config), "status")
    assert code == 0
    assert "held for review: 2: crm:contact:C0001, crm:contact:C0002" in out
    assert "Brauche" not in out  # ids only, never the reply's words
    code, out = _run(capsys, "--config", str(config), "status", "--json")
    assert json.loads(out)["shards"]["crm"]["held_for_review"]["count"] == 2
    code, out = _run(capsys, "--config", str(config), "explain", "C0001")
    assert code == 0 and "HELD FOR REVIEW" in out and "Brauche" not in out


def test_metrics_gauge_counts_open_reviews(config: Path) -> None:
    """After a cycle, /metrics carries `syncd_reviews_open` for the shard."""
    loaded = load_config(config)
    daemon = Daemon(config, loaded)
    with runtime(loaded) as rt:
        summary = rt.once()["crm"]
        daemon._record(rt, "crm", summary)
    text = generate_latest(daemon.metrics.registry).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("syncd_reviews_open", (("shard", "crm"),))] == 2


def test_completing_the_review_task_releases_the_hold(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rep completes the review task in the remote system: the next `once` resolves the
    hold, and `status` no longer lists the person."""
    _run(capsys, "--config", str(config), "once")
    state = sqlite3.connect(config.parent / "state.db")
    keys = [
        key
        for key, spec in state.execute("SELECT key, spec FROM outbox")
        if unpack("spec", spec)["subject"].startswith("Read this reply")
        and unpack("spec", spec)["prospect"]["id"] == "C0001"
    ]
    state.close()
    assert len(keys) == 1
    complete_task(config.parent / "remote.db", keys[0])
    code, out = _run(capsys, "--config", str(config), "once", "--json")
    assert code == 0 and json.loads(out)["shards"]["crm"]["holds_resolved"] == 1
    _, out = _run(capsys, "--config", str(config), "status")
    assert "held for review: 1: crm:contact:C0002" in out
