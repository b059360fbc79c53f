"""The HubSpot settings model and its documentation in the example config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from syncd_hubspot import plugin
from syncd_hubspot.settings import HubSpotSettings

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "syncd.example.toml"


def example_section() -> dict[str, object]:
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text[text.index("# ---- BEGIN hubspot") : text.index("# ---- END hubspot")]
    lines = [
        line[2:]
        for line in block.splitlines()
        if line.startswith("# ") and ("=" in line or line.startswith("# [")) and "e.g." not in line
    ]
    section: dict[str, object] = tomllib.loads("\n".join(lines))["shards"]["hubspot"]  # type: ignore[assignment]
    return section


def test_every_key_is_documented_with_its_default() -> None:
    """The example block names exactly the model's keys, each with the model's default."""
    section = example_section()
    section.pop("type")
    assert set(section) == set(HubSpotSettings.model_fields)
    for name, field in HubSpotSettings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if default is not None and name not in ("access_token", "client_secret", "refresh_token"):
            assert section[name] == default, name


def test_exactly_one_way_to_authenticate() -> None:
    """A token, or a full OAuth trio; both or neither is a configuration error."""
    HubSpotSettings(access_token="env:T")
    HubSpotSettings(client_id="app", client_secret="env:S", refresh_token="env:R")
    with pytest.raises(ValidationError, match="not both"):
        HubSpotSettings(access_token="env:T", client_id="app")
    with pytest.raises(ValidationError, match="access_token"):
        HubSpotSettings(client_id="app", client_secret="env:S")


def test_secrets_must_be_references_and_unknown_keys_fail() -> None:
    """A pasted token is refused, and so is a misspelt key."""
    with pytest.raises(ValidationError, match="secret reference"):
        HubSpotSettings(access_token="pat-na1-0000")
    with pytest.raises(ValidationError, match="page_sise"):
        HubSpotSettings(access_token="env:T", page_sise=10)  # type: ignore[call-arg]
    assert plugin.type_name == "hubspot" and plugin.settings_model is HubSpotSettings


def test_tokens_never_travel_over_plain_http_to_a_remote_host() -> None:
    """http:// is accepted only for the local fake; anything remote must be https."""
    import pytest
    from pydantic import ValidationError

    from syncd_hubspot.settings import HubSpotSettings

    with pytest.raises(ValidationError, match="https"):
        HubSpotSettings(access_token="env:T", base_url="http://api.example.com")
    assert HubSpotSettings(access_token="env:T", base_url="http://127.0.0.1:8080/").base_url == (
        "http://127.0.0.1:8080"
    )
