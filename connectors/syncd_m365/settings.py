"""The `[shards.NAME]` keys of a Microsoft 365 shard (one shard per mailbox)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from syncd.inbox import fake_endpoint, mailbox_address
from syncd.secrets import Secret

# App-only (client credentials) tokens always ask for the app's granted permissions as a
# whole; the only permission the app needs granted is Mail.ReadWrite (application).
SCOPES = ("https://graph.microsoft.com/.default",)
PERMISSION = "Mail.ReadWrite"
GRAPH_ROOT = "https://graph.microsoft.com/"
LOGIN_ROOT = "https://login.microsoftonline.com/"
# Graph's documented Outlook limits, per app and mailbox.
MAILBOX_REQUESTS_PER_10_MIN = 10_000
MAILBOX_CONCURRENCY = 4
BATCH_MAX = 20


class M365Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mailbox: str  # the rep's address (user principal name or primary SMTP address)
    tenant_id: str  # directory (tenant) id or verified domain
    client_id: str  # the app registration's application id
    # One of the two: a client secret, or a certificate (PEM private key) and its thumbprint.
    client_secret: Secret | None = None
    certificate_key: Secret | None = None
    certificate_thumbprint: str = ""
    category: str = "syncd/processed"  # marks messages handled; delta skips them afterwards
    rep_started_threads_only: bool = True  # only replies in conversations the rep started
    unknown_senders: Literal["ignore", "create_lead"] = "ignore"
    page_size: int = Field(default=50, ge=1, le=1000)  # messages (with bodies) per delta page
    batch_size: int = Field(default=BATCH_MAX, ge=1, le=BATCH_MAX)  # requests per $batch
    quote_chars: int = Field(default=600, ge=0, le=10_000)
    timeout_s: float = Field(default=30.0, gt=0)
    # The share of the per-mailbox limit (10,000 requests / 10 min) syncd may use.
    quota_share: float = Field(default=0.5, gt=0, le=1)
    concurrency: int = Field(default=MAILBOX_CONCURRENCY, ge=1, le=MAILBOX_CONCURRENCY)
    retry_attempts: int = Field(default=4, ge=1, le=10)
    # Tests and the sandbox only: the local fake's address (serves Graph and the token endpoint).
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
    def _credential(self) -> M365Settings:
        if (self.client_secret is None) == (self.certificate_key is None):
            raise ValueError(
                "give exactly one of client_secret = 'credential:m365-secret' or "
                "certificate_key = 'credential:m365-key' (with certificate_thumbprint)"
            )
        if self.certificate_key is not None and not self.certificate_thumbprint:
            raise ValueError(
                "certificate_key needs certificate_thumbprint (the certificate's SHA-1 "
                "thumbprint, as the app registration shows it)"
            )
        return self

    @property
    def graph_root(self) -> str:
        return (self.base_url + "graph/") if self.base_url else GRAPH_ROOT

    @property
    def authority(self) -> str:
        return LOGIN_ROOT + self.tenant_id

    @property
    def user_path(self) -> str:
        return f"v1.0/users/{self.mailbox}"

    @property
    def requests_per_10_min(self) -> int:
        return max(1, int(MAILBOX_REQUESTS_PER_10_MIN * self.quota_share))
