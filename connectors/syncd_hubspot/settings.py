"""The `[shards.NAME]` keys of a HubSpot shard, with their defaults.

Authentication is either a private-app token or an OAuth app (client id, secret and refresh
token); exactly one of the two must be configured. `base_url` exists so the sandbox and the
tests can point the shard at a local fake; real portals keep the default and TLS verification.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from syncd.model import Channel, ReasonKind
from syncd.secrets import Secret

DEFAULT_LEAD_STATUSES: dict[str, ReasonKind] = {
    "UNQUALIFIED": ReasonKind.NOT_A_FIT,
    "BAD_TIMING": ReasonKind.NOT_NOW,
}


def _contactless_steps() -> list[Literal["recent_activity"]]:
    return ["recent_activity"]


class HubSpotSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- auth: a private-app token, or OAuth (client id + secret + refresh token) ---------
    access_token: Secret | None = None
    client_id: str = ""
    client_secret: Secret | None = None
    refresh_token: Secret | None = None

    # --- transport ---------------------------------------------------------------------------
    base_url: str = "https://api.hubapi.com"
    ca_bundle: str = ""  # PEM file of extra CAs (corporate TLS proxy); empty: system store
    timeout_s: float = Field(default=30.0, gt=0)

    # --- limits ------------------------------------------------------------------------------
    # Share of the portal's 10-second and daily budgets syncd may spend (other integrations
    # share the same budget).
    rate_share: float = Field(default=0.5, gt=0, le=1)
    # Search is limited to 5 requests/s per portal, apart from the other budgets.
    search_rate_per_s: float = Field(default=4.0, gt=0, le=5)

    # --- source ------------------------------------------------------------------------------
    page_size: int = Field(default=200, ge=1, le=200)
    # Search hits completed together, across pages: their associations (1,000 ids a call)
    # and contacts and companies (100 a call) are read in shared batches. Bounds what a read
    # holds; pages still go to the engine one by one, each with its own cursor.
    read_batch: int = Field(default=1000, ge=1, le=10_000)
    # Re-read this far behind the cursor: records reach search some time after they change.
    lookback_s: float = Field(default=300.0, ge=0)
    # hs_lead_status values that are a "no", and the reason each one means.
    lead_statuses: dict[str, ReasonKind] = Field(
        default_factory=lambda: dict(DEFAULT_LEAD_STATUSES)
    )
    read_deals: bool = True
    # A lost deal without associated contacts is followed up with the company's most
    # recently active contact ("recent_activity": Last Activity Date within
    # recent_activity_days); nobody, or [] here: an account-level plan for the deal's owner.
    contactless_fallback: list[Literal["recent_activity"]] = Field(
        default_factory=_contactless_steps
    )
    recent_activity_days: int = Field(default=365, ge=1)
    read_contacts: bool = True
    # Deal property naming the competitor that won (portals add their own); empty: none.
    competitor_property: str = ""

    # --- directory / sink --------------------------------------------------------------------
    # Subscription type whose status also counts as an e-mail opt-out; empty: only
    # hs_email_optout (unsubscribed from all) counts.
    subscription_id: str = ""
    # Boolean contact properties holding opt-outs for channels other than e-mail.
    channel_optout_properties: dict[Channel, str] = Field(default_factory=dict)
    # Static (MANUAL) contact list nurture enrolments are added to; empty: no enrolment.
    nurture_list_id: str = ""
    # No longer used: nothing but `syncd doctor SHARD --fix` creates the syncd_key task
    # property. Still accepted so that older configs load.
    create_properties: bool = False
    # Seconds after an in-doubt write before searching for it can be trusted (index lag).
    find_grace_s: float = Field(default=120.0, ge=0)
    # HubSpot does not say which time zone an owner works in: owner id -> IANA zone, used to
    # place their tasks on their business days (owners not listed: UTC).
    owner_timezones: dict[str, str] = Field(default_factory=dict)

    @field_validator("owner_timezones")
    @classmethod
    def _zones(cls, zones: dict[str, str]) -> dict[str, str]:
        for owner, zone in zones.items():
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(
                    f"owner {owner}: {zone!r} is not an IANA time zone (e.g. Europe/Berlin)"
                ) from exc
        return zones

    @field_validator("base_url")
    @classmethod
    def _tls_unless_local(cls, value: str) -> str:
        """Tokens never travel in clear: plain http only to the local fake."""
        host = urlsplit(value).hostname or ""
        if value.startswith("https://") or (
            value.startswith("http://") and host in ("127.0.0.1", "localhost", "::1")
        ):
            return value.rstrip("/")
        raise ValueError("must be https://..., or http:// on 127.0.0.1 / localhost (the sandbox)")

    @model_validator(mode="after")
    def _one_auth_mode(self) -> HubSpotSettings:
        oauth = [self.client_id, self.client_secret, self.refresh_token]
        if self.access_token is not None and any(oauth):
            raise ValueError(
                "set either access_token (private app) or client_id/client_secret/"
                "refresh_token (OAuth), not both"
            )
        if self.access_token is None and not all(oauth):
            raise ValueError(
                "set access_token (a private-app token reference) or all of client_id, "
                "client_secret and refresh_token (OAuth)"
            )
        return self

    @property
    def uses_oauth(self) -> bool:
        return self.access_token is None
