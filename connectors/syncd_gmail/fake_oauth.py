"""The local Google OAuth 2.0 server: token endpoint, consent endpoint, access tokens.

Speaks the grants google-auth and google-auth-oauthlib send: `refresh_token` (installed-app
tokens), `urn:ietf:params:oauth:grant-type:jwt-bearer` (service accounts with domain-wide
delegation: the JWT is verified against the registered public key, `sub` must be a mailbox the
admin delegated) and `authorization_code` with PKCE (the consent flow of `syncd auth gmail`).
Errors are Google's: `invalid_grant` for a revoked or expired grant, `unauthorized_client`
for a delegation the admin has not granted.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_TTL_S = 3599


class OAuthError(Exception):
    """A refused grant, rendered as Google's `{"error", "error_description"}` body."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class AccessToken:
    user: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class ServiceAccount:
    client_email: str
    client_id: str
    public_key_pem: bytes
    delegated: set[str]  # mailboxes the admin authorised this client for
    scopes: frozenset[str]  # scopes the admin authorised


@dataclass
class _Grant:
    user: str
    client_id: str
    scopes: frozenset[str]


@dataclass
class _Code:
    grant: _Grant
    redirect_uri: str
    challenge: str | None
    method: str


@dataclass
class OAuthServer:
    """Token state for the fake; thread-safe."""

    token_uri: str = ""  # this server's own token endpoint, set when it starts
    lock: threading.RLock = field(default_factory=threading.RLock)
    clients: dict[str, str] = field(default_factory=dict)  # client_id -> client_secret
    refresh_tokens: dict[str, _Grant] = field(default_factory=dict)
    service_accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    revoked_users: set[str] = field(default_factory=set)
    consent_user: str | None = None  # who "signs in" at the consent screen
    canary: str = ""  # planted in every access token issued (tests search logs for it)

    # --- set-up helpers (what an admin does in the console) --------------------------------

    def register_client(self) -> tuple[str, str]:
        client_id = f"{secrets.randbelow(10**12):012d}-fake.apps.googleusercontent.com"
        client_secret = "GOCSPX-" + secrets.token_urlsafe(18)
        with self.lock:
            self.clients[client_id] = client_secret
        return client_id, client_secret

    def issue_refresh_token(self, user: str, client_id: str, scopes: set[str]) -> str:
        token = "1//" + secrets.token_urlsafe(40)
        with self.lock:
            self.refresh_tokens[token] = _Grant(user.lower(), client_id, frozenset(scopes))
        return token

    def create_service_account(self, delegated: set[str], scopes: set[str]) -> dict[str, Any]:
        """A service-account key file's JSON, authorised for domain-wide delegation."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        client_id = str(100000000000000000000 + secrets.randbelow(10**20))
        email = f"syncd-{secrets.token_hex(3)}@syncd-demo.iam.gserviceaccount.com"
        with self.lock:
            self.service_accounts[email] = ServiceAccount(
                email, client_id, public_pem, {d.lower() for d in delegated}, frozenset(scopes)
            )
        return {
            "type": "service_account",
            "project_id": "syncd-demo",
            "private_key_id": secrets.token_hex(20),
            "private_key": private_pem,
            "client_email": email,
            "client_id": client_id,
            "auth_uri": self.token_uri.replace("/token", "/o/oauth2/auth"),
            "token_uri": self.token_uri,
        }

    def revoke(self, user: str) -> None:
        """The user revoked access (or the admin removed the delegation)."""
        with self.lock:
            self.revoked_users.add(user.lower())
            for token, access in list(self.access_tokens.items()):
                if access.user == user.lower():
                    del self.access_tokens[token]

    def restore(self, user: str) -> None:
        with self.lock:
            self.revoked_users.discard(user.lower())

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far stops working (clients must refresh)."""
        with self.lock:
            self.access_tokens.clear()

    # --- the API side ------------------------------------------------------------------------

    def authenticate(self, bearer: str | None) -> AccessToken | None:
        if not bearer:
            return None
        with self.lock:
            access = self.access_tokens.get(bearer)
            if access is None or access.expires_at < time.time():
                return None
            if access.user in self.revoked_users:
                return None
            return access

    def _mint(self, user: str, scopes: frozenset[str]) -> dict[str, Any]:
        token = "ya29.fake-" + self.canary + secrets.token_urlsafe(32)
        with self.lock:
            self.access_tokens[token] = AccessToken(user, scopes, time.time() + TOKEN_TTL_S)
        return {
            "access_token": token,
            "expires_in": TOKEN_TTL_S,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
        }

    # --- the token endpoint --------------------------------------------------------------------

    def token(self, form: dict[str, str], authorization: str = "") -> dict[str, Any]:
        """Answer a token request; client credentials may come as HTTP Basic auth."""
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
            form = {
                **form,
                "client_id": unquote(client_id),
                "client_secret": unquote(client_secret),
            }
        grant_type = form.get("grant_type", "")
        if grant_type == "refresh_token":
            return self._refresh(form)
        if grant_type == JWT_GRANT:
            return self._jwt_bearer(form)
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        raise OAuthError(400, "unsupported_grant_type", "Invalid grant_type: " + grant_type)

    def _check_client(self, form: dict[str, str]) -> str:
        client_id = form.get("client_id", "")
        with self.lock:
            known = self.clients.get(client_id)
        if known is None or known != form.get("client_secret"):
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        return client_id

    def _refresh(self, form: dict[str, str]) -> dict[str, Any]:
        client_id = self._check_client(form)
        with self.lock:
            grant = self.refresh_tokens.get(form.get("refresh_token", ""))
            revoked = grant is not None and grant.user in self.revoked_users
        if grant is None or grant.client_id != client_id or revoked:
            raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
        return self._mint(grant.user, grant.scopes)

    def _jwt_bearer(self, form: dict[str, str]) -> dict[str, Any]:
        assertion = form.get("assertion", "")
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError(400, "invalid_grant", "Invalid JWT.") from None
        with self.lock:
            account = self.service_accounts.get(str(unverified.get("iss", "")))
        if account is None:
            raise OAuthError(400, "invalid_grant", "Invalid grant: account not found")
        try:
            claims = jwt.decode(
                assertion,
                account.public_key_pem,
                algorithms=["RS256"],
                audience=[GOOGLE_TOKEN_URI, self.token_uri],
                options={"require": ["iss", "aud", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise OAuthError(
                400, "invalid_grant", "Invalid JWT: Token must be a short-lived token"
            ) from None
        except jwt.PyJWTError:
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.") from None
        subject = str(claims.get("sub", "")).lower()
        scopes = frozenset(str(claims.get("scope", "")).split())
        with self.lock:
            revoked = subject in self.revoked_users
        if (
            not subject
            or subject not in account.delegated
            or revoked
            or not scopes <= account.scopes
        ):
            raise OAuthError(
                401,
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, or client "
                "not authorized for any of the scopes requested.",
            )
        return self._mint(subject, scopes)

    # --- consent (authorization code with PKCE) ----------------------------------------------

    def authorize(self, query: dict[str, str]) -> str:
        """Return the redirect location the consent screen sends the browser to."""
        client_id = query.get("client_id", "")
        redirect_uri = query.get("redirect_uri", "")
        with self.lock:
            known = client_id in self.clients
            user = self.consent_user
        if not known or not redirect_uri or user is None:
            raise OAuthError(400, "invalid_request", "Missing or unknown client_id/redirect_uri")
        code = "4/" + secrets.token_urlsafe(30)
        scopes = frozenset(query.get("scope", "").split())
        with self.lock:
            self.codes[code] = _Code(
                _Grant(user, client_id, scopes),
                redirect_uri,
                query.get("code_challenge"),
                query.get("code_challenge_method", "plain"),
            )
        sep = "&" if "?" in redirect_uri else "?"
        state = query.get("state", "")
        return f"{redirect_uri}{sep}state={state}&code={code}&scope={'+'.join(sorted(scopes))}"

    def _exchange_code(self, form: dict[str, str]) -> dict[str, Any]:
        client_id = self._check_client(form)
        with self.lock:
            code = self.codes.pop(form.get("code", ""), None)
        if code is None or code.grant.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "Malformed auth code.")
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            if code.method == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            else:
                computed = verifier
            if computed != code.challenge:
                raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
        body = self._mint(code.grant.user, code.grant.scopes)
        body["refresh_token"] = self.issue_refresh_token(
            code.grant.user, client_id, set(code.grant.scopes)
        )
        return body
