"""Bearer tokens for HubSpot: a private-app token, or OAuth access tokens refreshed ahead of
their expiry.

OAuth access tokens live 30 minutes (`expires_in`). Waiting for a 401 to refresh wastes a call
and, on a write, leaves the engine unsure what happened, so the token is renewed a margin
*before* it expires. A refresh the portal refuses means the app was uninstalled or its
credentials rotated: that is a FatalSyncError, never a retry loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from syncd.connectors import FatalSyncError
from syncd.secrets import SecretRef

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Grant:
    """What the token endpoint answered."""

    access_token: str
    expires_in_s: float
    refresh_token: str | None = None  # set when the portal rotated it


# (client_id, client_secret, refresh_token) -> Grant; raises FatalSyncError when refused.
Exchange = Callable[[str, str, str], Grant]


class Credentials(Protocol):
    oauth: bool

    def token(self) -> str:
        """A token valid for the next call."""
        ...

    def refresh(self) -> str:
        """A new token now (the portal refused the current one)."""
        ...


class PrivateAppToken:
    """A private app's static token: nothing to refresh; a refusal is final."""

    oauth = False

    def __init__(self, secret: SecretRef):
        self._secret = secret
        self._value: str | None = None

    def token(self) -> str:
        if self._value is None:
            self._value = self._secret.reveal()
        return self._value

    def refresh(self) -> str:
        raise FatalSyncError(
            "HubSpot refused the private-app token: create a new token for the app and update "
            "access_token"
        )


class OAuthSession:
    """Access tokens from a refresh token, renewed `margin` before `expires_in` runs out."""

    oauth = True

    def __init__(
        self,
        client_id: str,
        client_secret: SecretRef,
        refresh_token: SecretRef,
        exchange: Exchange,
        clock: Callable[[], float] = time.monotonic,
        max_margin_s: float = 300.0,
    ):
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_ref = refresh_token
        self._refresh_value: str | None = None
        self._exchange = exchange
        self._clock = clock
        self._max_margin_s = max_margin_s
        self._lock = threading.Lock()
        self._access: str | None = None
        self._renew_at = 0.0
        self.refreshes = 0

    def token(self) -> str:
        with self._lock:
            if self._access is None or self._clock() >= self._renew_at:
                return self._renew("expiry")
            return self._access

    def refresh(self) -> str:
        with self._lock:
            return self._renew("refused")

    def _renew(self, why: str) -> str:
        if self._refresh_value is None:
            self._refresh_value = self._refresh_ref.reveal()
        grant = self._exchange(self._client_id, self._client_secret.reveal(), self._refresh_value)
        if grant.refresh_token:
            self._refresh_value = grant.refresh_token
        # Renew a margin ahead: a fifth of the lifetime, at most max_margin_s.
        margin = min(self._max_margin_s, grant.expires_in_s / 5)
        self._access = grant.access_token
        self._renew_at = self._clock() + grant.expires_in_s - margin
        self.refreshes += 1
        log.info("hubspot.token_refreshed", reason=why, expires_in_s=grant.expires_in_s)
        return grant.access_token
