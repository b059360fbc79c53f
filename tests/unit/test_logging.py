"""Logs: JSON lines off a terminal, and no secret in any line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import structlog

from syncd.logging import configure
from syncd.secrets import register, scrub
from syncd.store import Store


def test_json_lines_when_not_a_terminal() -> None:
    """Off a TTY each event is one JSON object per line with a stable event name."""
    out = io.StringIO()
    configure(fmt="auto", stream=out)
    structlog.get_logger("t").info("cycle.summary", shard="crm", events=3)
    line = json.loads(out.getvalue().strip())
    assert line["event"] == "cycle.summary" and line["events"] == 3 and line["level"] == "info"


def test_planted_secret_appears_in_no_log_line(tmp_path: Path) -> None:
    """A secret in the environment and in a secret file, referenced by the config and then
    used by a connector, shows up in no line syncd logs — even when code logs it by mistake."""
    secret_env = "sk-env-3f9a0c7d1e"
    secret_file = "sk-file-8b2e4d6f0a"
    (tmp_path / "token").write_text(secret_file)
    (tmp_path / "token").chmod(0o600)
    script = f"""
import os, sys
os.environ["SYNCD_PLANTED"] = {secret_env!r}
from syncd.logging import configure
from syncd.secrets import register, scrub
from syncd.store import Store
from syncd.secrets import SecretRef
import structlog
configure(fmt="json", stream=sys.stdout)
log = structlog.get_logger("probe")
a = SecretRef("env:SYNCD_PLANTED").reveal()
b = SecretRef("file:{tmp_path / "token"}").reveal()
log.info("oops.logged", header="Bearer " + a, nested={{"deep": [b]}}, token="anything")
try:
    raise RuntimeError("login failed with " + b)
except RuntimeError:
    log.exception("shard.cycle_failed")
print("PROBE_DONE")
"""
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    output = run.stdout + run.stderr
    assert "PROBE_DONE" in output and "oops.logged" in output
    assert secret_env not in output
    assert secret_file not in output
    assert "[redacted]" in output


def test_credential_shaped_text_is_masked_even_when_never_registered() -> None:
    """An echoed Authorization header, a token in a JSON or form body and a session id are
    masked by shape; the words around them, and config messages about passwords, stay."""
    text = (
        '{"Authorization": "Bearer ya29.a0AfH6SMB"} grant_type=refresh_token&'
        "refresh_token=1//0gLz9&client_secret=GOCSPX-abc "
        '{"access_token":"CJb3xq","expires_in":1800} sessionId=00D5e!AQ0AQ '
        "state.password: environment variable PGPASS is not set"
    )
    scrubbed = scrub(text)
    for value in ("ya29.a0AfH6SMB", "1//0gLz9", "GOCSPX-abc", "CJb3xq", "00D5e!AQ0AQ"):
        assert value not in scrubbed
    assert "grant_type=refresh_token" in scrubbed and '"expires_in":1800' in scrubbed
    assert "state.password: environment variable PGPASS is not set" in scrubbed


def test_a_registered_key_is_masked_whole_escaped_or_line_by_line() -> None:
    """A PEM key registered at run time is masked in full, in its escaped repr, and when a
    single line of it shows up."""
    lines = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BKcwggSjAgEAAoIBAQC7Vx1lqYQ8mZ2T"]
    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----"
    register(pem)
    for shown in (pem, repr(pem), f"near {lines[1]} here"):
        assert not any(line in scrub(shown) for line in lines)


def test_the_store_keeps_no_credential_in_dead_letters(store: Store) -> None:
    """A record dead-lettered with a vendor error that echoes a token keeps the error, masked."""
    store.dead_letter_record("crm", "rec-1", "HTTP 400: {'Authorization': 'Bearer sk-live-77aa'}")
    (letter,) = store.dead_letters()
    assert "sk-live-77aa" not in letter["error"] and "HTTP 400" in letter["error"]


def test_lines_reach_the_journal_with_their_priority(tmp_path: Path) -> None:
    """When stdout is the journal stream ($JOURNAL_STREAM names it), each JSON line starts
    with its syslog priority, so `journalctl -p warning` selects warnings and errors."""
    out = tmp_path / "journal"
    script = """
import os, sys
st = os.fstat(sys.stdout.fileno())
os.environ["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
from syncd.logging import configure
import structlog
configure(fmt="auto", stream=sys.stdout)
log = structlog.get_logger("probe")
log.info("cycle.summary", shard="crm")
log.warning("shard.retry_later", shard="crm")
log.error("shard.failed", shard="crm")
"""
    with out.open("w") as fh:
        subprocess.run([sys.executable, "-c", script], stdout=fh, timeout=60, check=True)
    lines = out.read_text().splitlines()
    assert [line[:3] for line in lines] == ["<6>", "<4>", "<3>"]
    assert [json.loads(line[3:])["event"] for line in lines] == [
        "cycle.summary",
        "shard.retry_later",
        "shard.failed",
    ]


def test_no_priority_prefix_off_the_journal() -> None:
    """A pipe or file that is not the journal stream gets the bare JSON (jq reads it)."""
    out = io.StringIO()
    configure(fmt="json", stream=out)
    structlog.get_logger("t").warning("shard.retry_later", shard="crm")
    assert out.getvalue().startswith("{")


def test_library_warnings_on_stderr_reach_the_journal_with_their_priority(tmp_path: Path) -> None:
    """A warning a library logs through the standard library (to stderr) is prefixed `<4>`
    when stderr is the journal stream, like syncd's own lines."""
    err = tmp_path / "stderr"
    script = """
import logging, os, sys
st = os.fstat(sys.stderr.fileno())
os.environ["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
from syncd.logging import configure
configure(fmt="json", stream=sys.stdout)
logging.getLogger("urllib3.connectionpool").warning("Retrying after connection broken")
"""
    with err.open("w") as fh:
        subprocess.run(
            [sys.executable, "-c", script],
            stderr=fh,
            stdout=subprocess.DEVNULL,
            timeout=60,
            check=True,
        )
    assert err.read_text().splitlines() == [
        "<4>WARNING:urllib3.connectionpool:Retrying after connection broken"
    ]
