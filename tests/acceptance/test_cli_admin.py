"""An admin's daily tools through the `syncd` entry point: global options anywhere, log
levels, explain, pause/resume, plan --as-of, status and replay, on the file-backed fake."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncd.cli import build_parser, main
from syncd.store import Store
from tests.conftest import fake_config, rejection

README = Path(__file__).parents[2] / "README.md"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    # three prospects who fit (two at one account), one company too small for the profile
    return fake_config(
        tmp_path,
        [rejection(0), rejection(1), rejection(2, account="A0001"), rejection(50, employees=7)],
        extra="[policy.icp]\nmin_employees = 50",
    )


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _dump(config: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the state database."""
    engine = sa.create_engine(f"sqlite:///{config.parent / 'state.db'}")
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        rows = {
            name: sorted(map(tuple, conn.execute(table.select()).all()), key=repr)
            for name, table in meta.tables.items()
        }
    engine.dispose()
    return rows


def _remote_writes(config: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{config.parent / 'remote.db'}")
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT COUNT(*) FROM writes")).scalar()
    engine.dispose()
    return int(count or 0)


# --- CLI conventions ----------------------------------------------------------------------


def test_global_options_work_after_the_subcommand(config: Path) -> None:
    """`syncd check-config --config FILE`, the first command an admin types, exits 0 through
    the installed console script, as does the same option before the subcommand."""
    script = Path(sys.executable).parent / "syncd"
    after = subprocess.run(
        [str(script), "check-config", "--config", str(config), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == f"{config}: OK"


def test_an_option_given_before_the_subcommand_is_kept(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--config before the subcommand still counts when the subcommand has options too."""
    code, out, _ = _run(capsys, "--config", str(config), "check-config", "--log-level", "error")
    assert code == 0 and "OK" in out


def test_log_level_quiet_and_environment(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-q` and SYNCD_LOG_LEVEL=warning silence the info lines; --log-level debug shows the
    per-decision lines that a terminal does not get by default; a wrong value is a config
    error naming the variable."""
    code, _, err = _run(capsys, "plan", "--config", str(config))
    assert code == 0 and "cycle.summary" in err and "decision.made" not in err
    code, _, err = _run(capsys, "plan", "--config", str(config), "--log-level", "debug")
    assert code == 0 and err.count("decision.made") == 4
    code, _, err = _run(capsys, "plan", "--config", str(config), "-q")
    assert code == 0 and "cycle.summary" not in err
    monkeypatch.setenv("SYNCD_LOG_LEVEL", "warning")
    code, _, err = _run(capsys, "plan", "--config", str(config))
    assert code == 0 and "cycle.summary" not in err
    monkeypatch.setenv("SYNCD_LOG_LEVEL", "loud")
    code, _, err = _run(capsys, "plan", "--config", str(config))
    assert code == 78 and "SYNCD_LOG_LEVEL" in err


def test_plan_prints_its_report_not_a_line_per_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan` over 40 rejections logs a couple of summary lines, not one per decision."""
    config = fake_config(tmp_path, [rejection(n) for n in range(40)])
    code, out, err = _run(capsys, "plan", "--config", str(config))
    assert code == 0 and "crm:contact:C0039  nurture" in out
    assert "decision.made" not in err and len(err.strip().splitlines()) <= 3


def _subcommands() -> dict[str, object]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)  # type: ignore[arg-type]


def test_every_subcommand_option_has_a_description(capsys: pytest.CaptureFixture[str]) -> None:
    """Each subcommand's --help describes every option it takes, --json included."""
    for name, sub in _subcommands().items():
        undocumented = [
            a.dest
            for a in sub._actions  # type: ignore[attr-defined]
            if not a.help and a.dest != "help"
        ]
        assert undocumented == [], name
    with pytest.raises(SystemExit) as info:
        main(["explain", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert re.search(r"--json\s+print the explanation as one JSON object", out)
    assert re.search(r"--config FILE\s+config file", out)


def test_readme_documents_every_exit_code() -> None:
    """The README's exit-code table names every code a command can end with."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Exit codes") :]
    for code in (0, 1, 2, 64, 65, 66, 78):
        assert re.search(rf"^\| `{code}` \|", table, flags=re.M), code


def test_replay_of_an_unknown_key_says_so_and_fails(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped key is not silently 're-queued 0': it is named, and the exit code is 1."""
    _run(capsys, "once", "--config", str(config))
    code, out, err = _run(capsys, "replay", "deadbeef", "--config", str(config))
    assert code == 1 and "deadbeef" in err and "re-queued" not in out


# --- explain ------------------------------------------------------------------------------


def test_explain_shows_rules_with_inputs_plan_and_writes(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a cycle, explain tells why: the failed fit with its numbers, and for a nurtured
    prospect the plan and each touch with its date, outbox state and remote id. It writes
    nothing to the state store."""
    _run(capsys, "once", "--config", str(config))
    before = _dump(config)
    code, out, _ = _run(capsys, "explain", "crm:contact:C0050", "--config", str(config))
    assert code == 0
    assert "fit.not_a_fit: employees 7 < min 50" in out
    code, out, _ = _run(capsys, "explain", "C0000", "--config", str(config))
    assert code == 0 and "crm:opp:0000" in out and "crm:contact:C0000#1  live" in out
    assert re.search(r"thank_you\s+task\s+materialised\s+outbox: done R\d+", out)
    assert _dump(config) == before


def test_explain_json_finds_a_person_by_email(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`explain ADDRESS --json` finds the prospect by e-mail and never prints the address."""
    _run(capsys, "once", "--config", str(config))
    code, out, _ = _run(capsys, "explain", "P1@Example.com", "--json", "--config", str(config))
    assert code == 0 and "p1@example.com" not in out.lower()
    (record,) = json.loads(out)["prospects"]
    assert record["prospect"] == "crm:contact:C0001"
    assert record["decisions"][0]["outcome"] == "nurture"
    assert {r["rule"] for r in record["decisions"][0]["rules"]} >= {"fit.ok", "plan.new"}
    (plan,) = record["plans"]
    done = [tc for tc in plan["touches"] if tc["outbox"] == "done"]
    assert done and all(tc["remote_id"] for tc in done)
    assert all(date.fromisoformat(tc["due"]) for tc in plan["touches"])


def test_explain_of_nobody_fails_with_a_hint(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown person exits 1 and says which forms are accepted."""
    _run(capsys, "once", "--config", str(config))
    code, _, err = _run(capsys, "explain", "C9999", "--config", str(config))
    assert code == 1 and "no prospect matches" in err and "crm:contact:ID" in err


def test_explain_before_any_cycle_creates_no_database(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read-only commands do not create the state database; they say what sets it up."""
    code, _, err = _run(capsys, "explain", "C0000", "--config", str(config))
    assert code == 1 and "syncd once" in err
    assert not (config.parent / "state.db").exists()


# --- pause / resume -----------------------------------------------------------------------


def test_paused_account_gets_no_touches_until_resumed(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A paused account's people are decided but nothing is written for them; status lists
    the pause; after resume the next cycle writes their touches."""
    code, out, _ = _run(
        capsys, "pause", "--account", "crm:account:A0001", "--reason", "legal hold",
        "--config", str(config),
    )  # fmt: skip
    assert code == 0 and "paused account crm:account:A0001" in out
    _run(capsys, "once", "--config", str(config))
    assert _remote_writes(config) == 1  # only C0000: C0001 and C0002 are at A0001
    code, out, _ = _run(capsys, "status", "--json", "--config", str(config))
    (pause,) = json.loads(out)["paused"]
    assert pause["scope"] == "account" and pause["reason"] == "legal hold"
    code, out, _ = _run(capsys, "explain", "C0002", "--config", str(config))
    assert "PAUSED by account crm:account:A0001" in out
    code, out, _ = _run(capsys, "resume", "--account", "crm:account:A0001", "--config", str(config))
    assert code == 0 and "resumed" in out
    _run(capsys, "once", "--config", str(config))
    assert _remote_writes(config) == 3
    code, _, err = _run(capsys, "resume", "--account", "crm:account:A0001", "--config", str(config))
    assert code == 1 and "not paused" in err


def test_pause_a_prospect_and_a_shard(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A prospect is paused by CRM id and resumed by e-mail address; a paused shard writes
    nothing at all; both are audited and listed; an unknown shard is refused."""
    _run(capsys, "plan", "--config", str(config))
    assert _run(capsys, "pause", "--shard", "crm", "--config", str(config))[0] == 0
    _run(capsys, "once", "--config", str(config))
    assert _remote_writes(config) == 0
    assert _run(capsys, "pause", "C0000", "--config", str(config))[0] == 0
    code, out, _ = _run(capsys, "status", "--config", str(config))
    assert "shard crm since" in out and "prospect crm:contact:C0000 since" in out
    _run(capsys, "resume", "--shard", "crm", "--config", str(config))
    _run(capsys, "once", "--config", str(config))
    assert _remote_writes(config) == 2  # C0001, C0002; C0000 is still paused
    code, out, _ = _run(capsys, "resume", "p0@example.com", "--config", str(config))
    assert code == 0 and "resumed prospect crm:contact:C0000" in out
    _run(capsys, "once", "--config", str(config))
    assert _remote_writes(config) == 3
    code, _, err = _run(capsys, "pause", "--shard", "nope", "--config", str(config))
    assert code == 1 and "no shard 'nope'" in err
    engine = sa.create_engine(f"sqlite:///{config.parent / 'state.db'}")
    with engine.connect() as conn:
        kinds = conn.execute(
            sa.text("SELECT kind FROM audit WHERE kind IN ('pause', 'resume') ORDER BY id")
        ).all()
    engine.dispose()
    assert [k for (k,) in kinds] == ["pause", "pause", "resume", "resume"]


# --- plan --as-of -------------------------------------------------------------------------


def test_plan_as_of_shows_that_days_writes_and_changes_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan --as-of` a day in the future lists the planned touches that day's cycle would
    write, with their dates; the state store and the remote stay as they were."""
    _run(capsys, "once", "--config", str(config))
    before, writes = _dump(config), _remote_writes(config)
    code, out, _ = _run(capsys, "plan", "--as-of", "2030-01-01", "--json", "--config", str(config))
    assert code == 0
    data = json.loads(out)
    assert data["as_of"] == "2030-01-01"
    due = data["shards"]["crm"]["due"]
    kinds = {item["kind"] for item in due}
    assert {"insight_email", "callback"} <= kinds
    assert {item["prospect"] for item in due} == {f"crm:contact:C000{n}" for n in range(3)}
    code, out, _ = _run(capsys, "plan", "--as-of", "2030-01-01", "--config", str(config))
    assert "syncd plan for 2030-01-01" in out and "already planned" in out
    today = _run(capsys, "plan", "--json", "--config", str(config))[1]
    assert json.loads(today)["shards"]["crm"]["due"] == []  # nothing more is due today
    assert _dump(config) == before and _remote_writes(config) == writes


def test_plan_as_of_rejects_a_non_date(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed date is a usage error that shows the expected form."""
    with pytest.raises(SystemExit) as info:
        main(["plan", "--as-of", "1 March", "--config", str(config)])
    assert info.value.code == 64 and "YYYY-MM-DD" in capsys.readouterr().err


# --- status -------------------------------------------------------------------------------


def test_status_separates_read_time_from_record_age(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Right after a good cycle the last successful read is seconds ago while the newest
    record is days old; times are ISO 8601 and lists hold objects."""
    _run(capsys, "once", "--config", str(config))
    code, out, _ = _run(capsys, "status", "--json", "--config", str(config))
    crm = json.loads(out)["shards"]["crm"]
    assert code == 0 and crm["state"] == "ok"
    assert 0 <= crm["since_last_read_s"] < 600
    assert crm["newest_record_age_s"] > 86_400
    for key in ("last_read_at", "newest_record_at", "last_cycle_at"):
        assert datetime.fromisoformat(crm[key]).tzinfo is not None
    assert all(isinstance(item, dict) for item in crm["next_due"])


def test_status_shows_the_last_error_and_failed_shards(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shard stopped by an error (as the daemon records it) is listed as failed with its
    last error; the next good cycle clears the failure and keeps the error for reference."""
    _run(capsys, "once", "--config", str(config))
    store = Store.open(f"sqlite:///{config.parent / 'state.db'}")
    store.record_error("crm", "FatalSyncError: INVALID_SESSION_ID", failed=True)
    store.close()
    _code, out, _ = _run(capsys, "status", "--json", "--config", str(config))
    data = json.loads(out)
    assert data["failed_shards"] == ["crm"]
    error = data["shards"]["crm"]["last_error"]
    assert error["error"] == "FatalSyncError: INVALID_SESSION_ID"
    at = datetime.fromisoformat(error["at"])
    assert abs(at - datetime.now(UTC)) < timedelta(minutes=10)
    _, out, _ = _run(capsys, "status", "--config", str(config))
    assert "shard crm: FAILED" in out and "failed shards: crm" in out
    _run(capsys, "once", "--config", str(config))
    data = json.loads(_run(capsys, "status", "--json", "--config", str(config))[1])
    assert data["failed_shards"] == [] and data["shards"]["crm"]["last_error"] is not None


def test_demo_runs_on_the_same_clock(capsys: pytest.CaptureFixture[str]) -> None:
    """`demo --as-of` a day four months ahead decides the sandbox's rejections as on that day:
    they are old by then, so nobody is thanked and past call-backs are moved on."""
    code, out, _ = _run(capsys, "demo", "--json")
    assert code == 0
    today = json.loads(out)["shards"]["salesforce"]["rules"]
    ahead = (date.today() + timedelta(days=120)).isoformat()
    code, out, _ = _run(capsys, "demo", "--as-of", ahead, "--json")
    assert code == 0
    later = json.loads(out)["shards"]["salesforce"]["rules"]
    assert today.get("ack.task", 0) > 0 and later.get("ack.task", 0) == 0
    assert later.get("callback.rebased", 0) > today.get("callback.rebased", 0)
