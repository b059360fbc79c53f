"""Credentials for one mailbox, and the body of `syncd auth gmail`.

Two ways in, both with the single scope gmail.modify (read + label + draft; nothing narrower
can label a message):
- a service account with domain-wide delegation: the Workspace admin authorises its client
  id for gmail.modify; syncd impersonates the shard's `mailbox` (one subject per shard);
- an installed-app OAuth client: `syncd auth gmail` runs the consent flow once and saves the
  refresh token to `token_file` (mode 0600); the daemon refreshes access tokens from it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import structlog
from google.auth.credentials import Credentials
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from google_auth_oauthlib.flow import InstalledAppFlow

from syncd.connectors import ConfigError, SyncError
from syncd.model import id_hash
from syncd.secrets import SecretError, check_private_file, register
from syncd_gmail.settings import SCOPES, GmailSettings

log = structlog.get_logger(__name__)


def load_credentials(settings: GmailSettings) -> Credentials:
    """The shard's credentials; ConfigError says what to fix when they cannot be loaded."""
    if settings.auth == "service_account":
        return _service_account(settings)
    return _token_file(settings)


def _service_account(settings: GmailSettings) -> Credentials:
    assert settings.service_account_key is not None  # enforced by the settings model
    try:
        info = json.loads(settings.service_account_key.reveal())
        if isinstance(info, dict):
            register(str(info.get("private_key") or ""), str(info.get("private_key_id") or ""))
        base = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=list(SCOPES)
        )
    except SecretError as exc:
        raise ConfigError(f"service_account_key: {exc}") from exc
    except (ValueError, KeyError) as exc:
        raise ConfigError(
            "service_account_key is not a service-account JSON key (download a new key for "
            "the service account in the Google Cloud console)"
        ) from exc
    # One subject per mailbox: with_subject returns a copy bound to this rep.
    delegated: Credentials = base.with_subject(settings.mailbox)
    return delegated


def _token_file(settings: GmailSettings) -> Credentials:
    path = settings.token_file
    assert path is not None  # enforced by the settings model
    if not path.is_file():
        raise ConfigError(
            f"token_file {path} does not exist; create it with: syncd auth <shard name>"
        )
    try:
        check_private_file(path, "token_file")
        creds: Credentials = user_credentials.Credentials.from_authorized_user_file(  # type: ignore[no-untyped-call]
            str(path), scopes=list(SCOPES)
        )
    except SecretError as exc:
        raise ConfigError(str(exc)) from exc
    except (ValueError, KeyError) as exc:
        raise ConfigError(
            f"token_file {path} is not a saved OAuth token; recreate it with: "
            "syncd auth <shard name>"
        ) from exc
    register(getattr(creds, "refresh_token", None), getattr(creds, "client_secret", None))
    if settings.base_url:
        # google-auth always refreshes saved user tokens at Google's endpoint; the local fake
        # serves its own token endpoint next to the API.
        creds = creds.with_token_uri(settings.base_url + "token")  # type: ignore[attr-defined]
    return creds


def save_token(path: Path, token_json: str) -> None:
    """Write the token file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token_json)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncd auth <shard>",
        description=(
            "Authorise syncd to read, label and draft in one mailbox (scope gmail.modify) and "
            "save the refresh token to the shard's token_file."
        ),
    )
    parser.add_argument("--port", type=int, default=0, help="local port for the redirect")
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="print the consent URL instead of opening a browser (e.g. over SSH with -L)",
    )
    return parser


def run_auth(settings: GmailSettings, argv: list[str]) -> int:
    """`syncd auth gmail`: consent in a browser, check the mailbox, save the token."""
    from syncd_gmail.client import GmailClient  # the client needs credentials; import late

    args = _parser().parse_args(argv)
    if settings.auth != "installed_app":
        print(
            "This shard uses a service account (auth = 'service_account'): nothing to "
            "authorise here. Ask the Workspace admin to grant its client id domain-wide "
            f"delegation for {', '.join(SCOPES)}."
        )
        return 2
    if settings.client_secrets is None:
        print(
            "Set client_secrets = 'file:/path/client_secret.json' (an OAuth client of type "
            "'Desktop app' from the Google Cloud console) in the shard's section."
        )
        return 2
    try:
        config: dict[str, Any] = json.loads(settings.client_secrets.reveal())
    except (SecretError, ValueError) as exc:
        print(f"client_secrets cannot be read: {exc}")
        return 2
    flow = InstalledAppFlow.from_client_config(config, scopes=list(SCOPES))
    creds = flow.run_local_server(
        port=args.port,
        open_browser=not args.no_browser,
        prompt="consent",
        authorization_prompt_message=(
            f"Sign in as {settings.mailbox} and allow access at this URL:\n{{url}}\n"
        ),
        success_message="syncd is authorised; you may close this window.",
    )
    try:
        profile = GmailClient(settings, creds).profile()
    except SyncError as exc:
        print(f"The new token does not work: {exc}")
        return 1
    address = str(profile.get("emailAddress", "")).lower()
    if address != settings.mailbox:
        print(
            f"You signed in as another account than the shard's mailbox {settings.mailbox}; "
            "nothing was saved. Run the command again and pick the right account."
        )
        return 1
    assert settings.token_file is not None  # enforced by the settings model
    save_token(settings.token_file, creds.to_json())
    log.info("gmail.token_saved", mailbox=id_hash(settings.mailbox))
    print(f"Saved the token to {settings.token_file} (mode 0600).")
    return 0
