"""The `[replies]` config section: defaults, validation, and loading from the config file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from syncd.config import ConfigInvalid, parse_config
from syncd.model import Intent
from syncd.replies import RepliesConfig


def test_defaults_enable_every_supported_language() -> None:
    """An empty section classifies English, German, French, Spanish, Dutch, Italian, Portuguese."""
    config = RepliesConfig()
    assert config.languages == ("en", "de", "fr", "es", "nl", "it", "pt")
    assert config.phrases == {}


def test_phrases_are_read_from_toml_tables() -> None:
    """`[replies.phrases.en] opt_out = [...]` becomes extra opt-out phrases for English."""
    raw = {"replies": {"phrases": {"en": {"opt_out": ["take me off"]}}}}
    loaded = parse_config(raw, Path("syncd.toml"))
    assert loaded.core.replies.phrases == {"en": {Intent.OPT_OUT: ("take me off",)}}


@pytest.mark.parametrize(
    ("section", "where"),
    [
        ({"phrases": {"en": {"maybe": ["x"]}}}, "replies.phrases.en.maybe"),
        ({"phrases": {"sv": {"opt_out": ["x"]}}}, "replies.phrases.sv"),
        ({"languages": ["en", "sv"]}, "replies.languages.1"),
        ({"unknown_key": 1}, "replies.unknown_key"),
    ],
)
def test_unknown_intents_languages_and_keys_are_errors(section: dict, where: str) -> None:
    """A typo in an intent, a language or a key is reported with its location."""
    with pytest.raises(ConfigInvalid) as raised:
        parse_config({"replies": section}, Path("syncd.toml"))
    assert any(problem.startswith(where) for problem in raised.value.problems)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"languages": ()},
        {"languages": ("en", "en")},
        {"phrases": {"en": {Intent.OTHER: ("x",)}}},
        {"phrases": {"en": {Intent.OPT_OUT: ("  ",)}}},
        {"phrases": {"fr": {Intent.OPT_OUT: ("stop",)}}, "languages": ("en",)},
        {"auto_reply_subjects": ("",)},
        {"max_body_chars": 10},
    ],
)
def test_meaningless_settings_are_rejected(kwargs: dict) -> None:
    """Empty, duplicate or inapplicable settings fail validation instead of being ignored."""
    with pytest.raises(ValidationError):
        RepliesConfig(**kwargs)


def test_config_is_frozen() -> None:
    """A loaded configuration cannot be changed behind the classifier's back."""
    with pytest.raises(ValidationError):
        RepliesConfig().languages = ("en",)  # type: ignore[misc]


def test_example_section_is_valid() -> None:
    """The documented [replies] section of the example config gives the defaults."""
    example = Path(__file__).resolve().parents[3] / "config" / "syncd.example.toml"
    with example.open("rb") as handle:
        section = tomllib.load(handle)["replies"]
    assert RepliesConfig.model_validate(section) == RepliesConfig()
