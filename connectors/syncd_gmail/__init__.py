"""The Gmail connector: one shard per mailbox; prospects' replies in, reply drafts out.

Source: replies in threads the rep started, classified (syncd.replies) and matched to the
CRM shard's people (`crm = "<shard>"` in the section; the engine hands that connector over
as `peers["crm"]`); acknowledged by labelling the messages. Sink: acknowledgement drafts in
the reply's thread. Tasks and opt-outs go to the CRM's sink, not here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel

from syncd.connectors import (
    ConfigError,
    Connector,
    ShardContext,
    SyncError,
)
from syncd.doctor import Check, failed, passed
from syncd.inbox import crm_peer, crm_sandbox_installed
from syncd_gmail.auth import load_credentials, run_auth
from syncd_gmail.client import GmailClient
from syncd_gmail.drafts import GmailDraftSink
from syncd_gmail.sandbox import GmailSandbox
from syncd_gmail.settings import SCOPES, GmailSettings
from syncd_gmail.source import GmailSource

__all__ = ["SCOPES", "GmailPlugin", "GmailSettings", "open_connector", "plugin"]


def _settings(settings: BaseModel) -> GmailSettings:
    if not isinstance(settings, GmailSettings):
        raise ConfigError(f"expected Gmail settings, got {type(settings).__name__}")
    return settings


def check_mailbox(client: GmailClient, settings: GmailSettings) -> None:
    """Before READY: the credentials work and reach the configured mailbox."""
    address = str(client.profile().get("emailAddress", "")).lower()
    if address != settings.mailbox:
        raise ConfigError(
            "the credentials open another mailbox than the configured `mailbox`; fix `mailbox` "
            "or recreate the token file for that mailbox"
        )


def open_connector(ctx: ShardContext, *, sleep: Callable[[float], None] = time.sleep) -> Connector:
    """Open a mailbox shard; `sleep` is the back-off clock (tests pass a recorder)."""
    settings = _settings(ctx.settings)
    directory, crm_shard = crm_peer(ctx, "salesforce")
    client = GmailClient(settings, load_credentials(settings), sleep=sleep)
    source = GmailSource(client, settings, directory, crm_shard, ctx.replies)
    return Connector(
        source=source,
        sink=GmailDraftSink(client, settings),
        checks=[lambda: check_mailbox(client, settings)],
        quota_remaining=client.quota_remaining,
    )


class GmailPlugin:
    type_name = "gmail"
    settings_model = GmailSettings

    @property
    def sandbox(self) -> GmailSandbox | None:
        """The seeded mailbox, offered only when a CRM sandbox runs to wire it to (without
        one, the sandbox keeps its own file-backed CRM demo)."""
        return GmailSandbox() if crm_sandbox_installed(GmailPlugin.type_name) else None

    def open(self, ctx: ShardContext) -> Connector:
        return open_connector(ctx)

    def doctor(self, settings: BaseModel, fix: bool = False) -> list[Check]:
        """Auth, the mailbox the credentials open, the scope; reads only (`fix` has nothing
        to create for a mailbox)."""
        gmail = _settings(settings)
        try:
            client = GmailClient(gmail, load_credentials(gmail))
        except SyncError as exc:
            return [failed("auth", str(exc), f"run `syncd auth {gmail.mailbox}` or fix the key")]
        try:
            check_mailbox(client, gmail)
        except SyncError as exc:
            return [
                passed("auth", f"credentials loaded ({gmail.auth})"),
                failed("mailbox", str(exc), "fix `mailbox` or the credentials"),
            ]
        return [
            passed("auth", f"credentials loaded ({gmail.auth})"),
            passed("mailbox", "the credentials open the configured mailbox"),
        ]

    def auth(self, settings: BaseModel, argv: list[str]) -> int:
        return run_auth(_settings(settings), argv)


plugin = GmailPlugin()
