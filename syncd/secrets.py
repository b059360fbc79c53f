"""Secret references: the config names where a secret lives, never the secret itself.

`env:NAME` reads an environment variable, `file:PATH` a file that only its owner may read,
`credential:NAME` a systemd credential from `$CREDENTIALS_DIRECTORY` (LoadCredential=).
Every revealed value is registered with the log redaction processor, so a secret that
reaches a log line by accident is masked there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator

_REVEALED: set[str] = set()
SCHEMES = ("env", "file", "credential")


class SecretError(ValueError):
    """A secret reference that cannot be resolved; the message says what to do."""


def revealed_values() -> frozenset[str]:
    """Every secret value revealed in this process (for the redaction processor)."""
    return frozenset(_REVEALED)


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
        if len(value) >= 4:
            _REVEALED.add(value)
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
