"""Configurations an admin gets wrong, through the real `syncd` command: each ends in one
line naming the key and what is wrong, with the README's exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import fake_config, rejection


def _syncd(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    return subprocess.run(
        [sys.executable, "-m", "syncd.cli", "--config", str(config), "-q", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["once", "plan"])
@pytest.mark.parametrize(
    ("reference", "says"),
    [
        ("env:SYNCD_REDTEAM_UNSET_TOKEN", "environment variable SYNCD_REDTEAM_UNSET_TOKEN"),
        ("file:/nonexistent/syncd/token", "/nonexistent/syncd/token does not exist"),
    ],
)
def test_unresolvable_secret_is_a_config_error_naming_its_key(
    tmp_path: Path, command: str, reference: str, says: str
) -> None:
    """A shard's secret that cannot be resolved stops `once` and `plan` with exit 78 and one
    line naming the key, as `check-config` does; nothing is read or written."""
    config = fake_config(tmp_path, [rejection(1)], shard=f'api_token = "{reference}"')
    run = _syncd(config, command)
    assert run.returncode == 78, run.stderr[-2000:]
    assert "Traceback" not in run.stderr + run.stdout
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "shards.crm.api_token" in lines[0] and says in lines[0]
    assert not (tmp_path / "remote.db").exists()


def test_a_relative_sqlite_path_is_refused_with_the_absolute_spelling(tmp_path: Path) -> None:
    """`sqlite:///var/lib/…` (three slashes) is relative to the working directory, so a run
    started elsewhere would keep another state and write everything again: it is a config
    error naming the key and the four-slash spelling, before anything is read."""
    config = fake_config(tmp_path, [rejection(1)], state_url="sqlite:///var/lib/syncd/syncd.db")
    for command in ("check-config", "once"):
        run = _syncd(config, command)
        assert run.returncode == 78, run.stderr[-2000:]
        assert "state.url" in run.stderr and "sqlite:////var/lib/syncd/syncd.db" in run.stderr
        assert "Traceback" not in run.stderr
    assert not (tmp_path / "remote.db").exists()


@pytest.mark.parametrize("command", ["check-config", "once", "status"])
def test_a_state_file_that_is_not_a_database_is_a_one_line_config_error(
    tmp_path: Path, command: str
) -> None:
    """A state URL pointing at some other file (a typo, a clobbered file) stops the command
    with exit 78 and one line naming state.url and the file, never a traceback."""
    other = tmp_path / "notes.txt"
    other.write_text("not a database\n" * 100)
    config = fake_config(tmp_path, [rejection(1)], state_url=f"sqlite:///{other}")
    run = _syncd(config, command)
    assert run.returncode == 78, run.stderr[-2000:]
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "state.url" in lines[0] and str(other) in lines[0], lines
    assert other.read_text() == "not a database\n" * 100


def test_a_mailbox_whose_crm_shard_is_disabled_is_named_by_check_config(tmp_path: Path) -> None:
    """Disabling the CRM shard a mailbox writes through is caught by `check-config` (not
    first by `once`), naming both keys, instead of claiming the mailbox has no `crm`."""
    config = fake_config(tmp_path, [rejection(1)], shard="enabled = false")
    config.write_text(
        config.read_text()
        + f'\n[shards.mail]\ntype = "fake"\ncrm = "crm"\nevents_file = "{tmp_path / "m.jsonl"}"'
        + f'\nremote_db = "{tmp_path / "m.db"}"\n'
    )
    for command in ("check-config", "once"):
        run = _syncd(config, command)
        assert run.returncode == 78, run.stderr[-2000:]
        assert "shards.mail.crm" in run.stderr and "shards.crm.enabled = false" in run.stderr
        assert "Traceback" not in run.stderr
