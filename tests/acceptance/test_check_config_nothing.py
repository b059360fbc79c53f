"""`syncd check-config` on configs that are valid but cannot work as meant: nothing to run,
or a state file in a directory that cannot be made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import fake_config, rejection


def _check(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncd.cli", "--config", str(config), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_empty_config_is_valid_but_says_nothing_will_run(tmp_path: Path) -> None:
    """An empty file (every key defaulted) passes, with a warning that no shard is enabled."""
    config = tmp_path / "syncd.toml"
    config.write_text("# nothing configured yet\n")
    done = _check(config, "check-config")
    assert done.returncode == 0, done.stderr
    assert "enables no shard" in done.stderr and "Traceback" not in done.stderr


def test_a_config_whose_every_shard_is_disabled_says_nothing_will_run(tmp_path: Path) -> None:
    """Shards that are all `enabled = false`: valid, and the admin is told nothing runs."""
    config = fake_config(tmp_path, [rejection(1)], shard="enabled = false")
    done = _check(config, "check-config")
    assert done.returncode == 0, done.stderr
    assert "enables no shard" in done.stderr


def test_a_config_with_an_enabled_shard_gives_no_such_warning(tmp_path: Path) -> None:
    """The warning is for configs that run nothing, not for working ones."""
    config = fake_config(tmp_path, [rejection(1)])
    done = _check(config, "check-config")
    assert done.returncode == 0, done.stderr
    assert "enables no shard" not in done.stderr


def test_a_state_file_whose_directory_cannot_be_made_is_a_config_error(tmp_path: Path) -> None:
    """`state.url` under a file (here /dev/null): check-config exits 78 naming the path, as
    `once` does, each in one line without a traceback."""
    config = fake_config(tmp_path, [rejection(1)], state_url="sqlite:////dev/null/syncd/state.db")
    for command in ("check-config", "once"):
        done = _check(config, command)
        assert done.returncode == 78, (command, done.stderr)
        assert "/dev/null is not a directory" in done.stderr
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
