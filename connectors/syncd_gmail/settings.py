"""The `[shards.NAME]` keys of a Gmail shard (one shard per mailbox)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from syncd.inbox import fake_endpoint, mailbox_address
from syncd.secrets import Secret

# Read + label + draft need gmail.modify: nothing narrower can label a message
# (gmail.labels only manages labels) and gmail.compose cannot read.
SCOPES = ("https://www.googleapis.com/auth/gmail.modify",)
GOOGLE_API_ROOT = "https://gmail.googleapis.com/"


class GmailSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # The rep's address: the delegated subject (service account) and the expected profile.
    mailbox: str
    # "service_account": domain-wide delegation, key in `service_account_key`;
    # "installed_app": a token file created by `syncd auth gmail`.
    auth: Literal["service_account", "installed_app"] = "service_account"
    service_account_key: Secret | None = None
    token_file: Path | None = None
    client_secrets: Secret | None = None  # only `syncd auth gmail` reads it
    # What counts as a prospect's reply; the look-back and the processed label are added.
    query: str = "in:inbox -from:me -in:chats -category:promotions -category:social"
    lookback_days: int = Field(default=14, ge=1, le=365)
    # Keep only replies in threads whose first message the rep sent.
    rep_started_threads_only: bool = True
    # history.list labelId filter for new messages ("" = every label).
    history_label: str = "INBOX"
    processed_label: str = "syncd/processed"
    unknown_senders: Literal["ignore", "create_lead"] = "ignore"
    page_size: int = Field(default=500, ge=1, le=500)  # messages.list / history.list
    batch_size: int = Field(default=50, ge=1, le=100)  # calls in one batch request
    quote_chars: int = Field(default=600, ge=0, le=10_000)
    timeout_s: float = Field(default=30.0, gt=0)
    ca_bundle: Path | None = None  # corporate TLS proxy; verification always stays on
    # Per-user quota: units a second (Gmail's moving average) and a minute, and the share of
    # them syncd may use.
    user_units_per_second: int = Field(default=250, ge=10)
    user_units_per_minute: int = Field(default=15_000, ge=100)
    quota_share: float = Field(default=0.5, gt=0, le=1)
    retry_attempts: int = Field(default=4, ge=1, le=10)
    # Tests and the sandbox only: the local fake's address, e.g. "http://127.0.0.1:8765/".
    base_url: str = ""

    @field_validator("mailbox")
    @classmethod
    def _address(cls, value: str) -> str:
        return mailbox_address(value)

    @field_validator("base_url")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return fake_endpoint(value)

    @model_validator(mode="after")
    def _auth_source(self) -> GmailSettings:
        if self.auth == "service_account" and self.service_account_key is None:
            raise ValueError(
                "auth = 'service_account' needs service_account_key = 'file:/path/key.json' "
                "(or use auth = 'installed_app' with token_file)"
            )
        if self.auth == "installed_app" and self.token_file is None:
            raise ValueError(
                "auth = 'installed_app' needs token_file = '/var/lib/syncd/gmail-NAME.json' "
                "(created by: syncd auth <shard name>)"
            )
        return self

    @property
    def api_root(self) -> str:
        return self.base_url or GOOGLE_API_ROOT

    @property
    def batch_uri(self) -> str:
        # Built explicitly: the client's default batch URI ignores the endpoint override.
        return self.api_root + "batch/gmail/v1"

    def full_query(self) -> str:
        """The configured query with the look-back and the processed-label exclusion."""
        # Gmail's search form of a label name: spaces and slashes become hyphens.
        label = re.sub(r"[\s/]+", "-", self.processed_label.strip().lower())
        return f"{self.query} newer_than:{self.lookback_days}d -label:{label}".strip()
