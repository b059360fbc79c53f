"""Run-time credentials never reach a log line or the state store.

The seeded sandbox runs the three vendor fakes with canaries planted in every credential they
issue at run time (HubSpot OAuth access tokens, Salesforce session ids, Gmail access tokens).
Their error answers echo the request's Authorization header, as some gateways do. A real
`syncd once` process then runs against them at debug level; its every output line, the
SQLite file and a PostgreSQL dump are searched for the canaries, the issued tokens, the
HubSpot refresh token and client secret, and the lines of the JWT and service-account keys.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog

from syncd.config import parse_config
from syncd.logging import configure
from syncd.runtime import runtime
from syncd.sandbox import sandbox, to_toml
from syncd.secrets import revealed_values
from syncd.testing.httpfake import Fault, FaultKind, Response

CANARIES = {
    "hubspot": "HScanaryQ7rT2",
    "salesforce": "SFcanaryW4kP9",
    "gmail": "GMcanaryZ8nL3",
}
HUBSPOT_CLIENT_SECRET = "hs-client-secret-canary-5d1f"


def _secret_file(path: Path, value: str) -> str:
    path.write_text(value)
    path.chmod(0o600)
    return f"file:{path}"


def _key_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if len(line) >= 16 and "-----" not in line]


def _plant(box: Any, workdir: Path) -> list[str]:
    """Plant canaries and echo faults in the running fakes; the secrets that must not leak."""
    fakes = {s.name: s.fake for s in box.shards}
    hubspot, salesforce, gmail = fakes["hubspot"], fakes["salesforce"], fakes["gmail"]
    hubspot.canary = CANARIES["hubspot"]
    salesforce.auth.canary = CANARIES["salesforce"]
    gmail.oauth.canary = CANARIES["gmail"]

    # HubSpot over OAuth, so that its access tokens are obtained at run time.
    refresh = hubspot.add_oauth_app("syncd-canary-app", HUBSPOT_CLIENT_SECRET)
    section = box.config["shards"]["hubspot"]
    del section["access_token"]
    section["client_id"] = "syncd-canary-app"
    section["client_secret"] = _secret_file(workdir / "hs-secret", HUBSPOT_CLIENT_SECRET)
    section["refresh_token"] = _secret_file(workdir / "hs-refresh", refresh)

    data_paths = {hubspot: r"/crm/v3/objects/", salesforce: r"/query", gmail: r"/messages"}
    for fake, path in data_paths.items():
        for status in (500, 401, 502):
            body = {"message": "upstream error", "status": status}
            fault = Fault(FaultKind.STATUS, Response(status, body), path=path, echo_auth=True)
            fake.inject(fault)

    sf_key = Path(box.config["shards"]["salesforce"]["private_key"].removeprefix("file:"))
    gm_key_file = box.config["shards"]["gmail"]["service_account_key"].removeprefix("file:")
    gm_key = json.loads(Path(gm_key_file).read_text())
    return [
        *CANARIES.values(),
        refresh,
        HUBSPOT_CLIENT_SECRET,
        *_key_lines(sf_key.read_text()),
        *_key_lines(gm_key["private_key"]),
        gm_key["private_key_id"],
    ]


def _issued(box: Any) -> list[str]:
    """Every run-time credential the fakes handed out to syncd (seeding used others)."""
    fakes = {s.name: s.fake for s in box.shards}
    with fakes["hubspot"].lock:
        hubspot = list(fakes["hubspot"].access_tokens)
    salesforce = list(fakes["salesforce"].auth._tokens)
    with fakes["gmail"].oauth.lock:
        gmail = list(fakes["gmail"].oauth.access_tokens)
    return [t for t in hubspot + salesforce + gmail if any(c in t for c in CANARIES.values())]


def _dump(url: str, workdir: Path) -> str:
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        files = [db, db.with_name(db.name + "-wal")]
        return "".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    run = subprocess.run(
        ["pg_dump", "--data-only", plain], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("pg_database_url")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.mark.slow
def test_run_time_tokens_and_keys_reach_no_log_line_and_no_database(
    tmp_path: Path, state_url: str
) -> None:
    """Canaries planted in every token the fakes issue, and error answers echoing the
    Authorization header: after two `syncd once` runs at debug level, no canary, issued
    token, client secret or key line is in the output, the SQLite file or a pg_dump."""
    workdir = tmp_path / "box"
    with sandbox(workdir, seed="demo") as box:
        secrets = _plant(box, workdir)
        box.config["state"]["url"] = state_url
        box.config["logging"] = {"level": "debug", "format": "json"}
        config = tmp_path / "syncd.toml"
        config.write_text(to_toml(box.config))
        output = ""
        for _ in range(2):
            run = subprocess.run(
                [sys.executable, "-m", "syncd.cli", "--config", str(config), "once"],
                capture_output=True,
                text=True,
                env={**os.environ},
                timeout=300,
            )
            output += run.stdout + run.stderr
        issued = _issued(box)
    assert "cycle.summary" in output or "write." in output, output[-3000:]
    assert all(any(c in token for token in issued) for c in CANARIES.values()), issued
    stored = _dump(state_url, tmp_path)
    assert stored  # the store was written
    for secret in [*secrets, *issued]:
        assert secret not in output, f"a secret reached the output: {secret[:6]}…"
        assert secret not in stored, f"a secret reached the state store: {secret[:6]}…"


def test_every_issued_token_is_registered_and_an_echoing_error_is_masked(
    tmp_path: Path,
) -> None:
    """In process: after a run, every token the fakes issued is registered for redaction,
    and a vendor exception whose text echoes the Authorization header (as a traceback would
    show it) comes out of the logger masked."""
    workdir = tmp_path / "box"
    out = io.StringIO()
    with sandbox(workdir, seed="demo") as box:
        _plant(box, workdir)
        box.config["state"]["url"] = f"sqlite:///{tmp_path / 'state.db'}"
        with runtime(parse_config(box.config, tmp_path / "syncd.toml")) as rt:
            rt.once()
        issued = _issued(box)
    assert len(issued) >= 3
    assert set(issued) <= revealed_values()
    configure(level="debug", fmt="json", stream=out)
    log = structlog.get_logger("probe")
    for token in issued:
        try:
            raise RuntimeError(f"HTTP response headers: {{'Authorization': 'Bearer {token}'}}")
        except RuntimeError:
            log.exception("shard.cycle_failed", shard="probe")
    text = out.getvalue()
    assert text.count("[redacted]") >= len(issued)
    assert not [t for t in issued if t in text]
