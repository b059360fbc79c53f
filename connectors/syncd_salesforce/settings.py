"""The `[shards.NAME]` keys of a Salesforce shard (documented in config/syncd.example.toml)."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from syncd.model import ReasonKind
from syncd.secrets import Secret

# Lead statuses syncd treats as a "no" unless the config says otherwise. Only those the org
# has are used; a status named explicitly in the config must exist (checked at start).
DEFAULT_LEAD_STATUSES: dict[str, ReasonKind] = {
    "Closed - Not Converted": ReasonKind.OTHER,
    "Unqualified": ReasonKind.OTHER,  # fit is the ICP's call, not the status's
    "Not Interested": ReasonKind.NOT_INTERESTED,
    "Bad Timing": ReasonKind.NOT_NOW,
    "Nurture": ReasonKind.NOT_NOW,
}


ContactlessStep = Literal["opportunity_contact", "recent_activity", "primary_contact"]


def _contactless_steps() -> list[ContactlessStep]:
    return ["opportunity_contact", "recent_activity", "primary_contact"]


class SalesforceSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- connection ------------------------------------------------------------------------
    auth: Literal["jwt", "client_credentials"] = "jwt"
    consumer_key: str = Field(min_length=1)  # the connected app's consumer key (client id)
    username: str = ""  # jwt: the integration user the app acts as
    private_key: Secret | None = None  # jwt: PEM private key matching the app's certificate
    consumer_secret: Secret | None = None  # client_credentials
    login_domain: Literal["login", "test"] = "login"  # production or sandbox login / audience
    my_domain: str | None = None  # "acme.my" -> https://acme.my.salesforce.com
    api_version: str = Field(default="59.0", pattern=r"^\d{2}\.0$")
    timeout_s: float = Field(default=30.0, gt=0)
    ca_bundle: str | None = None  # PEM bundle for a TLS-inspecting corporate proxy
    base_url: str | None = None  # tests and the sandbox only: send every call here
    api_share: float = Field(default=0.5, gt=0, le=1)  # of the org's daily API requests
    retry_attempts: int = Field(default=4, ge=1, le=10)  # tries of one call within a cycle
    retry_base_s: float = Field(default=0.5, gt=0)

    # --- source ----------------------------------------------------------------------------
    read_opportunities: bool = True
    loss_reason_field: str | None = "Loss_Reason__c"
    competitor_field: str | None = "Competitor__c"
    loss_reasons: dict[str, ReasonKind] = Field(default_factory=dict)
    lead_statuses: dict[str, ReasonKind] = Field(
        default_factory=lambda: dict(DEFAULT_LEAD_STATUSES)
    )
    page_size: int = Field(default=2000, ge=200, le=2000)
    bulk_threshold: int = Field(default=10_000, ge=0)
    bulk_page_size: int = Field(default=10_000, ge=1000, le=100_000)
    bulk_poll_s: float = Field(default=2.0, ge=0)
    # A lost opportunity without contact roles is followed up with the first person these
    # find (the opportunity's own contact first, when listed: it is read with the
    # opportunity), the others in order; nobody: an account-level plan for its owner.
    contactless_fallback: list[ContactlessStep] = Field(default_factory=_contactless_steps)
    recent_activity_days: int = Field(default=365, ge=1)  # what "recent" means for the above

    # --- sink ------------------------------------------------------------------------------
    external_id_field: str = Field(default="Syncd_Key__c", pattern=r"^\w+__c$")
    fallback_owner_id: str | None = Field(default=None, pattern=r"^005\w{12}(\w{3})?$")
    task_status: str = "Not Started"
    campaign_id: str | None = Field(default=None, pattern=r"^701\w{12}(\w{3})?$")
    campaign_member_status: str | None = None
    find_grace_s: float = Field(default=60.0, ge=0)

    @field_validator(
        "my_domain",
        "ca_bundle",
        "base_url",
        "loss_reason_field",
        "competitor_field",
        "fallback_owner_id",
        "campaign_id",
        "campaign_member_status",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`key = ""` in the config means the same as leaving the key out."""
        return None if value == "" else value

    @field_validator("my_domain")
    @classmethod
    def _domain_prefix(cls, value: str | None) -> str | None:
        if value is None:
            return None
        prefix = value.removeprefix("https://").removesuffix("/").removesuffix(".salesforce.com")
        if not prefix or "/" in prefix or ":" in prefix:
            raise ValueError("give the My Domain prefix, e.g. 'acme.my' for acme.my.salesforce.com")
        return prefix

    @field_validator("base_url")
    @classmethod
    def _local_only(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        host = parts.hostname or ""
        if parts.scheme == "https":
            return value.rstrip("/")
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if parts.scheme != "http" or not loopback:
            raise ValueError(
                "must be https://..., or http:// on 127.0.0.1 / localhost (the local sandbox)"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _auth_complete(self) -> SalesforceSettings:
        if self.auth == "jwt" and (not self.username or self.private_key is None):
            raise ValueError("auth = 'jwt' needs username and private_key")
        if self.auth == "client_credentials":
            if self.consumer_secret is None:
                raise ValueError("auth = 'client_credentials' needs consumer_secret")
            if not self.my_domain:
                raise ValueError(
                    "auth = 'client_credentials' needs my_domain (the flow only works on the "
                    "org's My Domain, e.g. 'acme.my')"
                )
        return self

    @property
    def strict_lead_statuses(self) -> bool:
        """True when the config names the lead statuses itself (each must exist in the org)."""
        return "lead_statuses" in self.model_fields_set
