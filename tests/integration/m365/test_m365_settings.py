"""The documented M365 section, and credentials refused with a clear message."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from syncd.config import CORE_SHARD_KEYS
from syncd_m365 import M365Settings
from tests.example_config import example_section


def test_the_documented_example_block_is_a_valid_section_with_the_defaults() -> None:
    """Uncommenting the m365 block of syncd.example.toml gives a valid shard whose values are
    the real defaults, so the documentation cannot drift from the code."""
    section = example_section("m365")
    documented = {k: v for k, v in section.items() if k not in CORE_SHARD_KEYS}
    M365Settings.model_validate(documented)
    defaults = M365Settings.model_fields
    for key, value in documented.items():
        if key not in ("mailbox", "tenant_id", "client_id", "client_secret"):
            assert value == defaults[key].default, key
    assert section["crm"] == "hubspot"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "exactly one of client_secret"),
        (
            {"client_secret": "env:A", "certificate_key": "env:B", "certificate_thumbprint": "x"},
            "exactly one of client_secret",
        ),
        ({"certificate_key": "env:B"}, "certificate_thumbprint"),
        ({"client_secret": "s3cr3t-in-the-file"}, "secret reference"),
    ],
)
def test_a_missing_or_inlined_credential_is_refused_with_the_fix(
    extra: dict[str, str], message: str
) -> None:
    base = {"mailbox": "rep@corp.example", "tenant_id": "corp.example", "client_id": "app"}
    with pytest.raises(ValidationError, match=message):
        M365Settings.model_validate({**base, **extra})
