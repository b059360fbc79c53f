"""The `syncd` commands as an admin runs them, against the file-backed fake connector."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncd import __version__
from syncd.cli import main
from syncd.model import ContactFallback
from tests.conftest import fake_config, rejection


@pytest.fixture
def config(tmp_path: Path) -> Path:
    # six prospects who fit, one company too small for the profile
    return fake_config(
        tmp_path,
        [rejection(n) for n in range(6)] + [rejection(50, employees=3)],
        extra="[policy.icp]\nmin_employees = 10",
    )


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_once_json_prints_the_summary_object(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`once --json` prints one object with events, decisions by kind and writes by result."""
    code, out = _run(capsys, "--config", str(config), "once", "--json")
    assert code == 0
    crm = json.loads(out)["shards"]["crm"]
    assert crm["events"] == 7
    assert crm["decisions"] == {"nurture": 6, "not_a_fit": 1}
    assert crm["writes"] == {"ok": 6, "in_doubt": 0, "dead": 0}


def test_plan_prints_rules_and_dates_and_changes_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan` shows each prospect's rules and touch dates; no state or remote write follows."""
    code, out = _run(capsys, "--config", str(config), "plan")
    assert code == 0
    assert "crm:contact:C0050  not_a_fit  rules: fit.not_a_fit" in out
    assert "callback" in out and "thank_you" in out
    state = sa.create_engine(f"sqlite:///{config.parent / 'state.db'}")
    with state.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM outbox")).scalar() == 0
        assert conn.execute(sa.text("SELECT COUNT(*) FROM cursors")).scalar() == 0
    state.dispose()
    code, out = _run(capsys, "--config", str(config), "once", "--json")
    assert json.loads(out)["shards"]["crm"]["events"] == 7  # plan consumed nothing


def test_status_shows_cursor_outbox_and_next_touches(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a cycle, `status --json` reports the cursor, outbox counts and next due touches."""
    _run(capsys, "--config", str(config), "once")
    code, out = _run(capsys, "--config", str(config), "status", "--json")
    data = json.loads(out)
    crm = data["shards"]["crm"]
    assert code == 0 and crm["cursor"] is not None and crm["last_read_at"] is not None
    assert crm["outbox"] == {"done": 6} and crm["losses_without_contacts"] == {}
    first = crm["next_due"][0]["due"]
    assert crm["next_due"] and all(item["due"] >= first for item in crm["next_due"])
    assert data["dead_letters"] == []


def test_replay_with_nothing_dead_says_so(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`replay` re-queues dead letters and reports how many."""
    _run(capsys, "--config", str(config), "once")
    code, out = _run(capsys, "--config", str(config), "replay")
    assert code == 0 and "re-queued 0 write(s)" in out


def test_usage_error_exits_64(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command is a usage error (64), distinct from a config error (78)."""
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 64


def test_version_names_the_release_and_the_python(capsys: pytest.CaptureFixture[str]) -> None:
    """Admins check an upgrade with --version: it names the release and the Python it runs on."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert out.strip() == f"syncd {__version__} (Python {platform.python_version()})"


def test_demo_json_summarises_the_sandbox_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    """`demo --json` runs one real cycle on the seeded sandbox and prints the summary."""
    code, out = _run(capsys, "demo", "--json")
    assert code == 0
    shards = json.loads(out)["shards"]
    assert shards and all(s["events"] > 0 for s in shards.values())
    assert sum(s["writes"]["ok"] for s in shards.values()) > 0


def test_secret_in_config_and_environment_reaches_no_log_line(tmp_path: Path, config: Path) -> None:
    """A credential referenced from the config and set in the environment is used by the
    connector at debug logging, yet appears in no line the daemon prints."""
    secret = "pat-na1-5c0ffee-9d1e-42"
    text = config.read_text().replace("[state]", '[logging]\nlevel = "debug"\n[state]')
    config.write_text(text + 'api_token = "env:SYNCD_TEST_API_TOKEN"\n')
    env = {**os.environ, "SYNCD_TEST_API_TOKEN": secret}
    run = subprocess.run(
        [sys.executable, "-m", "syncd.cli", "--config", str(config), "once"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "fake.authenticated" in run.stderr  # the credential was really used and logged
    assert secret not in run.stdout + run.stderr


def test_losses_without_contacts_show_in_status_and_plan_names_the_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan` names each prospect's task owner and how it was chosen; after a cycle,
    `status` has a line counting lost deals that named no contact, by fallback."""
    found = dataclasses.replace(rejection(1), contact_fallback=ContactFallback.RECENT_ACTIVITY)
    config = fake_config(tmp_path, [found, rejection(2)])
    code, out = _run(capsys, "--config", str(config), "plan")
    assert code == 0 and "owner 005U1 (America/New_York, record owner)" in out
    _run(capsys, "--config", str(config), "once")
    code, out = _run(capsys, "--config", str(config), "status")
    assert code == 0 and "lost deals without contacts: 1 (recent activity 1)" in out


def test_report_shows_what_came_back_by_reason_touch_tier_and_owner(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report` counts re-engaged prospects and their pipeline over the nurtured ones, as a
    table and as JSON; a malformed date is a usage error."""
    from datetime import UTC, datetime

    from syncd.model import NEW_OPPORTUNITY, Cursor, Reengagement
    from syncd.store import Store

    _run(capsys, "--config", str(config), "once")
    store = Store.open(f"sqlite:///{config.parent / 'state.db'}")
    try:
        epoch = store.acquire_shard("crm", "report-test", 60)
        assert epoch is not None
        touch = {"kind": "thank_you", "channel": "email", "rule": "ack.task", "due": "2030-01-02"}
        came_back = Reengagement(
            prospect_key="crm:contact:C0001",
            source_ref="OPP-NEW-1",
            kind=NEW_OPPORTUNITY,
            occurred_at=datetime(2030, 3, 1, tzinfo=UTC),
            lost_at=datetime(2030, 1, 1, tzinfo=UTC),
            owner_id="U1",
            loss_reason="competitor",
            competitor="Acme",
            worth_tier=">=25000",
            amount=50_000.0,
            attribution={"window_days": 90, "last_touch": touch, "any_touch": [touch]},
        )
        store.commit_reengagements("crm", epoch, Cursor("x"), [came_back])
        store.release_shard("crm", "report-test")
    finally:
        store.close()
    window = ("--from", "2030-01-01", "--to", "2030-03-31")
    code, out = _run(capsys, "--config", str(config), "report", *window, "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["reengaged"], data["nurtured"], data["pipeline"]) == (1, 6, 50_000.0)
    assert data["days_to_reengage"] == {"median": 59.0, "p90": 59.0}
    assert data["by_last_touch_rule"] == [
        {"key": "thank_you (ack.task)", "reengaged": 1, "pipeline": 50_000.0}
    ]
    code, out = _run(capsys, "--config", str(config), "report", *window)
    assert "re-engaged: 1 of 6 nurtured prospects (16.7%)" in out
    assert "by original loss reason" in out and "competitor" in out
    assert main(["--config", str(config), "report", "--from", "March"]) == 64
