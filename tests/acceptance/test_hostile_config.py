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
