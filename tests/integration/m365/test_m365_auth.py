"""App-only sign-in through msal against the local token endpoint: certificate and secret."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from syncd.connectors import FatalSyncError
from syncd.sandbox import write_secret
from syncd_m365.testing import M365Testbed


def _certificate() -> tuple[str, str, str]:
    """(PEM private key, PEM public key, SHA-1 thumbprint) of a self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncd test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()  # noqa: S324
    return private, public, thumbprint


def test_a_certificate_credential_signs_in_and_reads(bed: M365Testbed, tmp_path: Path) -> None:
    """msal's signed client assertion is accepted by the token endpoint; the shard reads."""
    private, public, thumbprint = _certificate()
    client_id = bed.fake.register_app({bed.mailbox}, public_key=public)
    key_file = write_secret(tmp_path / "m365-key.pem", private)
    person = bed.person()
    bed.reply(str(person.email), "Not right now, maybe next year.")
    conn = bed.open(
        client_id=client_id,
        client_secret=None,
        certificate_key=f"file:{key_file}",
        certificate_thumbprint=thumbprint,
    )
    assert conn.source is not None
    pages = list(conn.source.read(None, datetime.now(UTC) + timedelta(minutes=1)))
    assert [e.prospect.ref for p in pages for e in p.events] == [person.ref]


def test_a_wrong_secret_stops_the_shard_with_what_to_check(
    bed: M365Testbed, tmp_path: Path
) -> None:
    wrong = write_secret(tmp_path / "wrong-secret", "not-the-secret")
    conn = bed.open(client_secret=f"file:{wrong}")
    assert conn.source is not None
    with pytest.raises(FatalSyncError, match="tenant_id, client_id"):
        list(conn.source.read(None, datetime.now(UTC)))


def test_a_mailbox_outside_the_access_policy_stops_the_shard(bed: M365Testbed) -> None:
    """Graph's 403 ErrorAccessDenied (application access policy) is fatal and says so."""
    other = "outside@harborlight.example"
    bed.fake.mailbox(other)
    conn = bed.open(mailbox=other)
    assert conn.source is not None
    with pytest.raises(FatalSyncError, match="application access policy"):
        list(conn.source.read(None, datetime.now(UTC)))
