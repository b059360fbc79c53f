"""`syncd sandbox` as an admin runs it: it says where it runs and how to stop, its secrets
and state are owner-only, and Ctrl-C leaves no directory or private key behind."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
WAIT_S = 120


def test_sandbox_says_where_it_runs_keeps_secrets_private_and_tidies_up(tmp_path: Path) -> None:
    """The banner names every fake and "Ctrl-C to stop"; keys and the state file written by
    a cycle against it are 0600; after SIGINT the work directory is gone and exit is 0."""
    config = tmp_path / "sandbox.toml"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncd.cli",
            "sandbox",
            "--seed",
            "empty",
            "--write-config",
            str(config),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        where = json.loads(proc.stdout.readline())  # blocks until the fakes are up
        banner = []
        while not banner or "Ctrl-C to stop" not in banner[-1]:
            banner.append(proc.stderr.readline())
            assert banner[-1], "the sandbox exited before its banner"
        text = "".join(banner)
        workdir = Path(where["workdir"])
        assert str(workdir) in text
        assert all(url in text for url in where["urls"].values())
        secrets = [p for p in workdir.iterdir() if p.is_file()]
        assert secrets and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in secrets)
        assert stat.S_IMODE(config.stat().st_mode) == 0o600

        once = subprocess.run(
            [sys.executable, "-m", "syncd.cli", "--config", str(config), "once"],
            capture_output=True,
            text=True,
            timeout=WAIT_S,
        )
        assert once.returncode == 0, once.stderr
        state = workdir / "state.db"
        assert stat.S_IMODE(state.stat().st_mode) == 0o600

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT_S) == 0
        assert not workdir.exists()
        assert "removed" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert os.path.exists(config)  # the admin's own file stays (it holds no secret)
