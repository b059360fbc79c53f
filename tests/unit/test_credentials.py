"""One set of credential names in the example config, the systemd unit and the admin guide,
and a missing credential that says what the service holds and which unit line loads it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncd.secrets import SecretError, SecretRef

ROOT = Path(__file__).parents[2]


def _referenced(path: Path) -> set[str]:
    names = set(re.findall(r"credential:([a-z0-9][\w-]*)", path.read_text(encoding="utf-8")))
    return names - {"NAME"}


def _loaded_by_unit() -> set[str]:
    unit = (ROOT / "systemd" / "syncd.service").read_text(encoding="utf-8")
    lines = re.findall(r"^LoadCredential=([\w-]+):syncd\.([\w-]+)$", unit, flags=re.M)
    assert all(name == file for name, file in lines)  # NAME:syncd.NAME, one scheme
    return {name for name, _ in lines}


def test_example_config_unit_and_guide_use_the_same_credential_names() -> None:
    """Every name the example config references is loaded by the unit and documented in the
    guide's credential table, and the unit loads nothing the other two do not name."""
    unit = _loaded_by_unit()
    assert unit
    assert _referenced(ROOT / "config" / "syncd.example.toml") == unit
    assert _referenced(ROOT / "docs" / "admin-guide.md") == unit


def test_a_missing_credential_lists_what_the_service_holds_and_the_unit_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`credential:hubspot-token` without the file: the error names what
    $CREDENTIALS_DIRECTORY holds and the LoadCredential= line to add."""
    (tmp_path / "salesforce-private-key").write_text("pem")
    (tmp_path / "salesforce-private-key").chmod(0o600)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    with pytest.raises(SecretError) as info:
        SecretRef("credential:hubspot-token").reveal()
    message = str(info.value)
    assert "holds: salesforce-private-key" in message
    assert "LoadCredential=hubspot-token:syncd.hubspot-token" in message
    assert "/etc/credstore/syncd.hubspot-token" in message
