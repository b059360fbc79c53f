"""The Microsoft 365 connector: one shard per mailbox on Microsoft Graph.

Source: prospects' replies in the rep's conversations, read with a delta query on the Inbox,
classified (syncd.replies) and matched to the CRM shard's people (`crm = "<shard>"`), exactly
as the Gmail connector does through `syncd.inbox`; acknowledged with a category. Sink:
acknowledgement drafts made with createReply. Tasks and opt-outs go to the CRM's sink and
syncd's suppression list, not here. The client (msal + requests, not msgraph-sdk) is
explained in `syncd_m365.client`.
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
from syncd_m365.client import GraphClient
from syncd_m365.drafts import M365DraftSink
from syncd_m365.sandbox import M365Sandbox
from syncd_m365.settings import PERMISSION, M365Settings
from syncd_m365.source import M365Source, create_category, has_category

__all__ = ["M365Plugin", "M365Settings", "open_connector", "plugin"]


def _settings(settings: BaseModel) -> M365Settings:
    if not isinstance(settings, M365Settings):
        raise ConfigError(f"expected Microsoft 365 settings, got {type(settings).__name__}")
    return settings


def check_mailbox(client: GraphClient, settings: M365Settings) -> None:
    """Before READY: a token is granted and opens the configured mailbox's Inbox."""
    client.request("GET", f"{settings.user_path}/mailFolders/inbox", "mailFolders.get")


def open_connector(
    ctx: ShardContext,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Connector:
    """Open a mailbox shard; `sleep` and `clock` drive the throttle (tests pass their own)."""
    settings = _settings(ctx.settings)
    directory, crm_shard = crm_peer(ctx, "hubspot")
    client = GraphClient(settings, sleep=sleep, clock=clock)
    source = M365Source(client, settings, directory, crm_shard, ctx.replies)
    return Connector(
        source=source,
        sink=M365DraftSink(client, settings),
        checks=[lambda: check_mailbox(client, settings)],
        quota_remaining=client.quota_remaining,
    )


class M365Plugin:
    type_name = "m365"
    settings_model = M365Settings

    @property
    def sandbox(self) -> M365Sandbox | None:
        """The seeded mailbox, offered only when a CRM sandbox runs to wire it to."""
        return M365Sandbox() if crm_sandbox_installed(M365Plugin.type_name) else None

    def open(self, ctx: ShardContext) -> Connector:
        return open_connector(ctx)

    def doctor(self, settings: BaseModel, fix: bool = False) -> list[Check]:
        """Token, mailbox access (the application access policy) and the category; `fix`
        creates a missing category."""
        m365 = _settings(settings)
        checks: list[Check] = []
        try:
            client = GraphClient(m365)
            check_mailbox(client, m365)
        except SyncError as exc:
            return [
                failed(
                    "mailbox",
                    str(exc),
                    f"grant {PERMISSION} (application) with admin consent and add the mailbox "
                    "to the application access policy's group",
                )
            ]
        checks.append(passed("mailbox", "a token opens the configured mailbox"))
        try:
            if has_category(client, m365):
                checks.append(passed("category", f"category {m365.category!r} exists"))
            elif fix:
                create_category(client, m365)
                checks.append(passed("category", f"category {m365.category!r} created", fixed=True))
            else:
                checks.append(
                    failed(
                        "category",
                        f"category {m365.category!r} is missing (created on first use)",
                        "run `syncd doctor SHARD --fix` to create it now",
                    )
                )
        except SyncError as exc:
            checks.append(failed("category", str(exc), "check the Mail.ReadWrite grant"))
        return checks


plugin = M365Plugin()
