"""Mailbox credentials: service-account delegation, the `syncd auth gmail` token file, errors."""

from __future__ import annotations

import json
import stat
import threading
import webbrowser
from pathlib import Path
from typing import Any

import httplib2
import pytest
from pydantic import ValidationError

from syncd.config import CORE_SHARD_KEYS
from syncd.connectors import ConfigError, FatalSyncError, ShardContext
from syncd.sandbox import write_secret
from syncd_gmail import SCOPES, GmailSettings, plugin
from syncd_gmail.testing import GmailTestbed, read_all
from tests.example_config import example_section


class _Browser:
    """The admin's browser: follows the consent screen's redirect back to syncd."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.thread = threading.Thread(target=httplib2.Http(timeout=5).request, args=(url,))
        self.thread.start()
        return True


@pytest.fixture
def installed_app(
    bed: GmailTestbed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Settings for an installed-app shard whose OAuth client the fake knows."""
    client_id, secret = bed.fake.oauth.register_client()
    config = {
        "installed": {
            "client_id": client_id,
            "client_secret": secret,
            "auth_uri": bed.fake.base_url + "/o/oauth2/auth",
            "token_uri": bed.fake.oauth.token_uri,
            "redirect_uris": ["http://localhost"],
        }
    }
    secrets = write_secret(tmp_path / "client_secret.json", json.dumps(config))
    # The token exchange goes to the local fake over plain http; real Google is https.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setattr(webbrowser, "get", lambda using=None: _Browser())
    return {
        "auth": "installed_app",
        "token_file": str(tmp_path / "state" / "gmail-token.json"),
        "client_secrets": f"file:{secrets}",
    }


def test_auth_command_saves_a_private_token_the_shard_then_uses(
    bed: GmailTestbed, installed_app: dict[str, Any]
) -> None:
    """`syncd auth gmail` runs the consent flow and saves a 0600 token the shard then reads with."""
    bed.fake.oauth.consent_user = bed.mailbox
    settings = bed.settings(**installed_app)
    person = bed.person()
    bed.reply(str(person.email), "Not right now, maybe next quarter.")

    assert plugin.auth(settings, ["--port", "0"]) == 0

    token_file = Path(installed_app["token_file"])
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    saved = json.loads(token_file.read_text())
    assert saved["refresh_token"] and saved["scopes"] == list(SCOPES)
    conn = bed.open(**installed_app)
    for check in conn.checks:
        check()
    events, _, _ = read_all(conn)
    assert [e.prospect for e in events] == [person]


def test_auth_command_refuses_another_account(
    bed: GmailTestbed, installed_app: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Signing in as someone else saves nothing and says why."""
    other = "assistant@harborlight.example"
    bed.fake.mailbox(other)
    bed.fake.oauth.consent_user = other

    assert plugin.auth(bed.settings(**installed_app), []) == 1

    assert not Path(installed_app["token_file"]).exists()
    assert "another account" in capsys.readouterr().out


def test_auth_command_has_nothing_to_do_for_a_service_account(
    bed: GmailTestbed, capsys: pytest.CaptureFixture[str]
) -> None:
    """A service-account shard is authorised by the Workspace admin, not by this command."""
    assert plugin.auth(bed.settings(), []) == 2
    assert "domain-wide" in capsys.readouterr().out


def test_a_token_file_others_can_read_is_refused(
    bed: GmailTestbed, installed_app: dict[str, Any]
) -> None:
    """A token file readable by group or others stops the shard at open, with the chmod fix."""
    token_file = Path(installed_app["token_file"])
    token_file.parent.mkdir(parents=True)
    token_file.write_text("{}")
    token_file.chmod(0o644)

    with pytest.raises(ConfigError, match="chmod 600"):
        bed.open(**installed_app)


def test_a_missing_token_file_says_how_to_create_it(
    bed: GmailTestbed, installed_app: dict[str, Any]
) -> None:
    """Without a token file, open fails with the command that creates it."""
    with pytest.raises(ConfigError, match="syncd auth <shard"):
        bed.open(**installed_app)


def test_a_mailbox_mismatch_fails_the_readiness_check(
    bed: GmailTestbed, installed_app: dict[str, Any]
) -> None:
    """Credentials of another mailbox than `mailbox` are caught before the shard is ready."""
    other = "assistant@harborlight.example"
    bed.fake.mailbox(other)
    bed.fake.oauth.consent_user = other
    settings = bed.settings(**installed_app)
    client_id, secret = bed.fake.oauth.register_client()
    refresh = bed.fake.oauth.issue_refresh_token(other, client_id, set(SCOPES))
    token = {
        "refresh_token": refresh,
        "client_id": client_id,
        "client_secret": secret,
        "token_uri": bed.fake.oauth.token_uri,
        "scopes": list(SCOPES),
    }
    Path(installed_app["token_file"]).parent.mkdir(parents=True)
    write_secret(Path(installed_app["token_file"]), json.dumps(token))
    conn = bed.open(**installed_app)

    with pytest.raises(ConfigError, match="another mailbox"):
        for check in conn.checks:
            check()
    assert settings.mailbox == bed.mailbox


def test_doctor_reports_a_withdrawn_delegation(bed: GmailTestbed) -> None:
    """doctor is clean for a working shard and names the fix when delegation is withdrawn."""
    assert all(c.ok for c in plugin.doctor(bed.settings()))
    bed.fake.revoke(bed.mailbox)

    problems = [c for c in plugin.doctor(bed.settings()) if not c.ok]

    assert len(problems) == 1 and "delegation" in problems[0].detail


def test_a_mailbox_shard_needs_its_crm() -> None:
    """Opening without a CRM peer is a configuration error naming the missing key."""
    settings = GmailSettings(mailbox="rep@corp.example", service_account_key="env:GMAIL_KEY")
    with pytest.raises(ConfigError, match=r"\.crm"):
        plugin.open(ShardContext("gmail_rep", settings, Path("/tmp"), {}))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mailbox": "rep@corp.example"}, "service_account_key"),
        ({"mailbox": "rep@corp.example", "auth": "installed_app"}, "token_file"),
        ({"mailbox": "not-an-address", "service_account_key": "env:K"}, "e-mail address"),
        (
            {"mailbox": "r@c.example", "service_account_key": "env:K", "base_url": "http://x.io/"},
            "local fake",
        ),
        ({"mailbox": "r@c.example", "service_account_key": "plain-secret"}, "secret reference"),
    ],
)
def test_settings_explain_what_is_wrong(values: dict[str, Any], message: str) -> None:
    """Each invalid section is refused with a message that says what to write instead."""
    with pytest.raises(ValidationError, match=message):
        GmailSettings.model_validate(values)


def test_the_shard_asks_for_gmail_modify_only() -> None:
    """Read, label and draft need gmail.modify and nothing broader (not mail.google.com)."""
    assert SCOPES == ("https://www.googleapis.com/auth/gmail.modify",)


def test_revoked_service_account_is_fatal(bed: GmailTestbed) -> None:
    """The admin withdrawing the delegation stops the shard with FatalSyncError."""
    conn = bed.open()
    bed.fake.revoke(bed.mailbox)

    with pytest.raises(FatalSyncError):
        read_all(conn)


def test_the_documented_example_block_is_a_valid_section_with_the_defaults() -> None:
    """Uncommenting the gmail block of syncd.example.toml gives a valid shard whose values
    are the real defaults, so the documentation cannot drift from the code."""
    section = example_section("gmail")
    documented = {k: v for k, v in section.items() if k not in CORE_SHARD_KEYS}
    settings = GmailSettings.model_validate(documented)
    defaults = GmailSettings.model_fields
    for key, value in documented.items():
        if key not in ("mailbox", "service_account_key", "token_file", "client_secrets"):
            assert value == defaults[key].default, key
    assert settings.auth == "service_account" and section["crm"] == "salesforce"
