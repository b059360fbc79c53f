"""Secret references: the config names where a secret lives, never the secret itself.

`env:NAME` reads an environment variable, `file:PATH` a file that only its owner may read,
`credential:NAME` a systemd credential from `$CREDENTIALS_DIRECTORY` (LoadCredential=).
Every revealed value is registered with the log redaction processor, so a secret that
reaches a log line by accident is masked there; so is every credential a connector obtains
at run time (access tokens, session ids, rotated refresh tokens: `register`). `scrub` masks
both, and credential-shaped text (an echoed Authorization header, `access_token=...`), in
vendor error text before it is logged or stored.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator

_REVEALED: set[str] = set()
SCHEMES = ("env", "file", "credential")
MASK = "[redacted]"
_MIN_SECRET_LEN = 4  # shorter values would mask ordinary words
# Credentials in text whose value syncd never saw: an echoed Authorization header, a token in
# a JSON body, a query string or a form. The name and separator stay, the value goes.
_CREDENTIAL_TEXT = re.compile(
    r"""(?ix)
    (?P<name>\b(?:authorization|proxy-authorization)\b["']?\s*[:=]\s*["']?
        (?:(?:bearer|basic|oauth)\s+)?)
      (?P<value>[^\s"',;}]+)
    | (?P<name2>\b(?:access_token|refresh_token|id_token|client_secret|session_?id
        |assertion|api_key)\b["']?\s*[:=]\s*["']?)
      (?P<value2>[^\s"'&,;}]+)
    | (?P<name3>\bbearer\s+)(?P<value3>[A-Za-z0-9._~+/=-]{8,})
    """
)


class SecretError(ValueError):
    """A secret reference that cannot be resolved; the message says what to do."""


def revealed_values() -> frozenset[str]:
    """Every secret value revealed in this process (for the redaction processor)."""
    return frozenset(_REVEALED)


def register(*values: str | None) -> None:
    """Register credentials obtained at run time (tokens, session ids) for redaction."""
    for value in values:
        if not isinstance(value, str) or len(value.strip()) < _MIN_SECRET_LEN:
            continue
        value = value.strip()
        _REVEALED.add(value)
        if "\n" in value:
            # A key file (PEM, JSON) may show up escaped in a repr, or one line at a time.
            _REVEALED.add(value.replace("\n", "\\n"))
            _REVEALED.update(line.strip() for line in value.splitlines() if len(line) >= 16)


def _mask_match(match: re.Match[str]) -> str:
    for name in ("name", "name2", "name3"):
        if match.group(name) is not None:
            return match.group(name) + MASK
    return MASK  # pragma: no cover - every alternative has a name group


def scrub(text: str, secrets: frozenset[str] | None = None) -> str:
    """`text` with every registered secret and credential-shaped value masked."""
    for secret in _REVEALED if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _CREDENTIAL_TEXT.sub(_mask_match, text)


def check_private_file(path: Path, what: str) -> None:
    """Refuse a secret file that group or others may read, or others may write."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWOTH):
        raise SecretError(
            f"{what} {path} is readable by group or others (mode {stat.filemode(mode)}); "
            f"run: chmod 600 {path}"
        )


class SecretRef:
    """A parsed `scheme:name` reference; `reveal()` reads the secret when it is needed."""

    __slots__ = ("name", "scheme")

    def __init__(self, reference: str):
        scheme, sep, name = reference.partition(":")
        if not sep or scheme not in SCHEMES or not name:
            raise SecretError(
                "must be a secret reference 'env:NAME', 'file:/path' or 'credential:NAME' "
                "(secrets are never written into the config file itself)"
            )
        self.scheme = scheme
        self.name = name

    def __repr__(self) -> str:
        return f"SecretRef('{self.scheme}:{self.name}')"

    def __str__(self) -> str:
        return f"{self.scheme}:{self.name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretRef) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def reveal(self) -> str:
        value = self._read()
        register(value)
        return value

    def _read(self) -> str:
        if self.scheme == "env":
            value = os.environ.get(self.name)
            if value is None:
                raise SecretError(f"environment variable {self.name} is not set")
            return value
        if self.scheme == "file":
            return _read_file(Path(self.name), "secret file")
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise SecretError(
                f"credential {self.name!r} needs $CREDENTIALS_DIRECTORY "
                "(set by systemd's LoadCredential=); use env: or file: outside systemd"
            )
        path = Path(directory) / self.name
        if not path.is_file():
            raise SecretError(missing_credential(self.name, Path(directory)))
        return _read_file(path, "credential")


def missing_credential(name: str, directory: Path) -> str:
    """What the service was given instead, and the unit line that would load `name`."""
    try:
        held = sorted(p.name for p in directory.iterdir())
    except OSError:
        held = []
    return (
        f"credential {name!r} was not loaded by systemd ($CREDENTIALS_DIRECTORY holds: "
        f"{', '.join(held) or 'nothing'}); create /etc/credstore/syncd.{name} (mode 0600) for "
        f"the unit's `LoadCredential={name}:syncd.{name}` line (add that line with "
        "`systemctl edit syncd` if the unit lacks it), then restart the service"
    )


def _read_file(path: Path, what: str) -> str:
    if not path.is_file():
        raise SecretError(f"{what} {path} does not exist")
    check_private_file(path, what)
    return path.read_text(encoding="utf-8").strip()


def _parse(value: Any) -> SecretRef:
    if isinstance(value, SecretRef):
        return value
    if not isinstance(value, str):
        raise SecretError("must be a string such as 'env:NAME'")
    return SecretRef(value)


Secret = Annotated[SecretRef, PlainValidator(_parse), PlainSerializer(str, return_type=str)]
"""Use as a pydantic field type for anything secret."""
