"""The shipped systemd unit: it verifies clean, stays hardened, and Python runs inside it."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "syncd.service"
GUIDE = REPO / "docs" / "admin-guide.md"
MAX_EXPOSURE = 2.0

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def settings(unit_text: str) -> dict[str, list[str]]:
    """Every `Key=value` of the unit, keys repeated as systemd allows (comments dropped)."""
    found: dict[str, list[str]] = {}
    for line in unit_text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key, []).append(value)
    return found


def analyze(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, *args], capture_output=True, text=True, timeout=60, cwd=cwd, check=False
    )


@needs_analyze
def test_unit_verifies_clean(tmp_path: Path) -> None:
    """`systemd-analyze verify` reports nothing wrong with the unit.

    verify also checks that ExecStart= names an existing executable, and /opt/syncd/bin/syncd
    exists only once syncd is installed there. So the unit is verified as a copy whose
    ExecStart= path alone is swapped for an executable in a temp dir; every other line,
    including ExecReload=/bin/kill, is checked as shipped.
    """
    stand_in = tmp_path / "syncd"
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    text = UNIT.read_text()
    assert "\nExecStart=/opt/syncd/bin/syncd run\n" in text
    copy = tmp_path / "syncd.service"
    copy.write_text(text.replace("ExecStart=/opt/syncd/bin/syncd ", f"ExecStart={stand_in} "))
    result = analyze("verify", str(copy), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" and result.stdout.strip() == ""


@needs_analyze
def test_security_exposure_is_at_most_two(tmp_path: Path) -> None:
    """`systemd-analyze security --offline=true` rates the shipped unit 2.0 or better."""
    result = analyze("security", "--offline=true", str(UNIT), cwd=tmp_path)
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze predates --offline (systemd < 250)")
    assert result.returncode == 0, result.stderr
    match = re.search(r"Overall exposure level for syncd\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout[-500:]
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout


def test_unit_declares_the_operational_contract() -> None:
    """The settings the daemon and the admin guide rely on are present with these values."""
    unit = settings(UNIT.read_text())
    expected = {
        "Type": "notify",
        "NotifyAccess": "main",
        "ExecReload": "/bin/kill -HUP $MAINPID",
        "Restart": "on-failure",
        "RestartPreventExitStatus": "64 78",
        "Environment": "SYNCD_CONFIG=/etc/syncd/syncd.toml",
        "StateDirectory": "syncd",
        "ConfigurationDirectory": "syncd",
        "DynamicUser": "yes",
        "UMask": "0077",
        "CapabilityBoundingSet": "",
        "MemoryDenyWriteExecute": "yes",
    }
    for key, value in expected.items():
        assert unit.get(key) == [value], key
    assert unit["WatchdogSec"] and unit["WatchdogSec"][0] not in ("", "0")


def test_every_credential_is_optional_and_documented() -> None:
    """Credentials come from the credstore by name (a missing one does not block start-up),
    and each one the unit loads is explained in the admin guide."""
    loads = settings(UNIT.read_text())["LoadCredential"]
    assert len(loads) >= 3
    guide = GUIDE.read_text()
    for entry in loads:
        credential_id, _, source = entry.partition(":")
        # An absolute source path that is missing fails the unit with 243/CREDENTIALS; a bare
        # credstore name that is missing is skipped, so unused vendors need no file.
        assert source == f"syncd.{credential_id}", entry
        assert f"credential:{credential_id}" in guide, credential_id
        assert f"/etc/credstore/syncd.{credential_id}" in guide, credential_id


def _mdwe_supported() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    pr_get_mdwe = 66
    return bool(libc.prctl(pr_get_mdwe, 0, 0, 0, 0) >= 0)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _mdwe_supported(),
    reason="needs Linux ≥ 6.3 for prctl(PR_SET_MDWE)",
)
def test_python_and_its_extensions_run_without_writable_executable_memory() -> None:
    """syncd's dependency stack loads and works under the W^X rule MemoryDenyWriteExecute=
    enforces, and a writable+executable mapping is indeed refused there.

    The kernel's PR_SET_MDWE (kept across execve) applies the rule systemd enforces with its
    seccomp filter, so the check needs no systemd and no root.
    """
    child = textwrap.dedent(
        """
        import mmap
        import sqlite3, ssl, json
        import psycopg, sqlalchemy, pydantic, structlog, prometheus_client, jwt
        import simple_salesforce, hubspot, googleapiclient.discovery
        from cryptography.hazmat.primitives.asymmetric import rsa
        import syncd.config, syncd.health, syncd.sdnotify, syncd.progress
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ssl.create_default_context()
        sqlite3.connect(":memory:").execute("select 1")
        try:
            mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        except PermissionError:
            print("refused")
        """
    )
    launcher = textwrap.dedent(
        """
        import ctypes, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
        if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
            sys.exit("prctl(PR_SET_MDWE) failed: errno %d" % ctypes.get_errno())
        os.execv(sys.executable, [sys.executable, "-c", sys.argv[1]])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", launcher, child],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused"
