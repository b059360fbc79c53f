"""The local Salesforce's OAuth token endpoint and its sessions.

JWT bearer assertions are checked as Salesforce checks them (RS256 signature against the
connected app's certificate, issuer, subject, audience, expiry); client credentials against
the app's consumer key and secret. Issued access tokens are the org's sessions: they can be
ended (a session timeout) or the app revoked (every later grant is refused).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable

import jwt

from syncd.testing.httpfake import Request, Response

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


class OAuthServer:
    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str | None,
        username: str,
        jwt_public_key: str | None,
        user_id: Callable[[], str],
        instance_host: str,
    ):
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.username = username
        self.jwt_public_key = jwt_public_key  # None: assertions are decoded, not verified
        self.instance_host = instance_host
        # Planted in every session id issued, so a test can search logs and databases for it.
        self.canary = ""
        self.revoked = False
        self._user_id = user_id
        self._tokens: dict[str, str] = {}  # access token -> user id
        self._lock = threading.Lock()

    def issue(self) -> str:
        """A new session for the integration user."""
        token = f"00D8d0000000001!{self.canary}{secrets.token_urlsafe(24)}"
        with self._lock:
            self._tokens[token] = self._user_id()
        return token

    def user_of(self, token: str | None) -> str | None:
        with self._lock:
            return self._tokens.get(token or "")

    def end_sessions(self) -> None:
        with self._lock:
            self._tokens.clear()

    def token(self, req: Request) -> Response:
        """POST /services/oauth2/token."""
        form = req.form()
        grant = form.get("grant_type")
        if self.revoked:
            return _error("invalid_grant", "expired access/refresh token")
        if grant == JWT_GRANT:
            problem = self.check_assertion(form.get("assertion", ""))
            if problem:
                return _error("invalid_grant", problem)
        elif grant == "client_credentials":
            key, secret = _client_auth(req, form)
            if key != self.consumer_key or self.consumer_secret is None:
                return _error("invalid_client_id", "client identifier invalid")
            if secret != self.consumer_secret:
                return _error("invalid_client", "invalid client credentials")
        else:
            return _error("unsupported_grant_type", "grant type not supported")
        return Response(
            200,
            {
                "access_token": self.issue(),
                "instance_url": f"https://{self.instance_host}",
                "id": f"https://login.salesforce.com/id/00D8d0000000001AAA/{self._user_id()}",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
                "scope": "api",
                "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            },
        )

    def check_assertion(self, assertion: str) -> str | None:
        """What the token endpoint checks in a JWT bearer assertion; None when it passes."""
        try:
            header = jwt.get_unverified_header(assertion)
            if header.get("alg") != "RS256":
                return "invalid assertion: algorithm must be RS256"
            if self.jwt_public_key:
                # The library sends `exp` as a string, which Salesforce accepts: check it here.
                claims = jwt.decode(
                    assertion,
                    self.jwt_public_key,
                    algorithms=["RS256"],
                    options={"verify_exp": False, "verify_aud": False},
                )
            else:
                claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return "invalid assertion"
        if claims.get("iss") != self.consumer_key:
            return "invalid client credentials"
        if claims.get("sub") != self.username:
            return "user hasn't approved this consumer"
        aud = str(claims.get("aud", ""))
        if aud not in AUDIENCES and not aud.endswith(".my.salesforce.com"):
            return "audience is invalid"
        try:
            expires = int(float(claims.get("exp", 0)))
        except (TypeError, ValueError):
            return "invalid assertion: exp"
        if expires < time.time():
            return "expired authorization code"
        return None


def _error(code: str, description: str) -> Response:
    return Response(400, {"error": code, "error_description": description})


def _client_auth(req: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    header = req.headers.get("Authorization", "")
    if header.startswith("Basic "):
        key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return key, secret
    return form.get("client_id"), form.get("client_secret")
